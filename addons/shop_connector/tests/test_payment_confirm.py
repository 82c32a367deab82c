from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .payment_common import ShopPaymentCase

DAY = date(2026, 3, 2)


@tagged("post_install", "-at_install")
class TestPaymentConfirm(ShopPaymentCase):
    def _proposal(self, line):
        return line.shop_match_ids.filtered(lambda m: m.state == "proposed").sorted(
            lambda m: -m.score
        )[:1]

    def test_confirm_reconciles_the_invoice(self):
        invoice = self._create_invoice(119.90)
        line = self._import(self._create_transaction(119.90, invoice.name))
        match = self._proposal(line)
        match.action_confirm()
        self.assertEqual(match.state, "confirmed")
        self.assertTrue(line.is_reconciled)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(line.partner_id, self.customer)
        with self.assertRaises(UserError):
            match.action_confirm()

    def test_collective_payment_reconciles_two_invoices(self):
        first, second = self._create_invoice(120.00), self._create_invoice(180.00)
        line = self._import(self._create_transaction(300.00, f"{first.name} {second.name}"))
        self._proposal(line).action_confirm()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(set((first | second).mapped("payment_state")) - {"in_payment"}, {"paid"})

    def test_partial_payment_leaves_the_invoice_partial(self):
        invoice = self._create_invoice(200.00)
        line = self._import(self._create_transaction(150.00, invoice.name))
        match = self._proposal(line)
        self.assertIn("partial", match.reason)
        match.action_confirm()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 50.00)
        self.assertTrue(line.is_reconciled)

    def test_outgoing_money_is_not_confirmed_from_the_queue(self):
        invoice = self._create_invoice(24.95)
        line = self._import(self._create_transaction(-24.95, invoice.name, kind="refund"))
        match = self._proposal(line)
        self.assertTrue(match.needs_person)
        with self.assertRaisesRegex(UserError, "Accounting"):
            match.action_confirm()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(match.state, "proposed")

    def test_confirmed_prepayment_releases_the_order_with_its_delivery(self):
        product = self.env["product.product"].create(
            {"name": "Rose", "type": "consu", "list_price": 59.95, "taxes_id": [Command.clear()]}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "shop_payment_method": "prepayment",
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.shop_release_state = "waiting_payment"
        self.assertEqual(order.state, "draft")
        line = self._import(self._create_transaction(order.amount_total, order.name))
        match = self._proposal(line)
        self.assertEqual(match.sale_order_id, order)
        match.action_confirm()
        self.assertEqual(order.shop_release_state, "released")
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.picking_ids, "the delivery is created at once")
        self.assertTrue(order.shop_paid_date)
        invoice = order.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(line.is_reconciled)

    def test_partial_prepayment_keeps_the_order_waiting(self):
        product = self.env["product.product"].create(
            {"name": "Tulip", "type": "consu", "list_price": 100.0, "taxes_id": [Command.clear()]}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.shop_release_state = "waiting_payment"
        first = self._import(self._create_transaction(40.00, order.name))
        match = self._proposal(first)
        match.action_confirm()
        self.assertEqual(order.shop_release_state, "waiting_payment")
        self.assertIn("partial payment", match.reason)
        self.assertFalse(order.invoice_ids)
        # the rest arrives: now the order is released and both payments settle its invoice
        rest = self._import(self._create_transaction(60.00, order.name, key="bank:TEST:rest"))
        self._proposal(rest).action_confirm()
        self.assertEqual(order.shop_release_state, "released")
        self.assertIn(order.invoice_ids.payment_state, ("paid", "in_payment"))

    def test_a_person_can_pick_another_invoice_of_the_customer(self):
        proposed, other = self._create_invoice(45.00), self._create_invoice(45.00)
        line = self._import(self._create_transaction(45.00, proposed.name))
        match = self._proposal(line)
        self.assertEqual(match.invoice_ids, proposed)
        with Form(match) as form:
            form.invoice_ids.clear()
            form.invoice_ids.add(other)
        match.action_confirm()
        self.assertIn(other.payment_state, ("paid", "in_payment"))
        self.assertEqual(proposed.payment_state, "not_paid")

    def test_old_unmatched_payment_becomes_one_case(self):
        queue = self.env["crm.shop.queue"].sudo().create({"name": "Accounting"})
        self.bank_account.write({"unmatched_case_days": 7, "queue_id": queue.id})
        line = self._import(self._create_transaction(13.37, "no idea", booking_date=DAY))
        cron = self.env.ref("shop_connector.ir_cron_open_unmatched_cases")
        with freeze_time(DAY + timedelta(days=6)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        line.invalidate_recordset()
        self.assertFalse(line.shop_case_id)
        for _run in range(2):  # a second run opens no second case
            with freeze_time(DAY + timedelta(days=8)), self.enter_registry_test_mode():
                cron.method_direct_trigger()
        line.invalidate_recordset()
        cases = self.env["crm.shop.case"].sudo().search([("name", "like", "13.37")])
        self.assertEqual(len(cases), 1)
        self.assertEqual(line.shop_case_id, cases)
        self.assertEqual(cases.queue_id, queue)

    def test_shop_user_without_accounting_rights_confirms(self):
        seller = new_test_user(
            self.env,
            "payment_seller",
            groups="shop_connector.group_user",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        self.assertFalse(seller.has_group("account.group_account_basic"))
        self.assertFalse(seller.has_group("account.group_account_invoice"))
        invoice = self._create_invoice(9.99)
        line = self._import(self._create_transaction(9.99, invoice.name))
        match = self._proposal(line)
        match.with_user(seller).action_confirm()
        self.assertEqual(match.state, "confirmed")
        self.assertEqual(match.confirmed_by_id, seller)
        self.assertTrue(match.confirmed_date)
        self.assertTrue(line.is_reconciled)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(match.message_ids[:1].author_id, seller.partner_id)

    def test_shop_user_without_accounting_rights_releases_a_prepayment(self):
        seller = new_test_user(
            self.env,
            "payment_seller2",
            groups="shop_connector.group_user",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        product = self.env["product.product"].create(
            {"name": "Iris", "type": "consu", "list_price": 30.0, "taxes_id": [Command.clear()]}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.shop_release_state = "waiting_payment"
        line = self._import(self._create_transaction(30.00, order.name))
        self._proposal(line).with_user(seller).action_confirm()
        self.assertEqual(order.shop_release_state, "released")
        self.assertIn(order.invoice_ids.payment_state, ("paid", "in_payment"))

    def test_user_without_shop_rights_is_refused(self):
        accountant = new_test_user(
            self.env,
            "payment_accountant",
            groups="account.group_account_manager",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        invoice = self._create_invoice(9.99)
        line = self._import(self._create_transaction(9.99, invoice.name))
        match = self._proposal(line)
        with self.assertRaisesRegex(AccessError, "Shop Connector"):
            match.with_user(accountant).action_confirm()
        self.assertEqual(match.state, "proposed")
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_shop_user_with_accounting_rights_confirms_and_rejects(self):
        clerk = new_test_user(
            self.env,
            "payment_clerk",
            groups="shop_connector.group_user,account.group_account_basic",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        paid, wrong = self._create_invoice(19.99), self._create_invoice(29.99)
        line = self._import(self._create_transaction(19.99, paid.name))
        other = self._import(self._create_transaction(29.99, wrong.name))
        self._proposal(line).with_user(clerk).action_confirm()
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        self._proposal(other).with_user(clerk).action_reject()
        self.assertEqual(wrong.payment_state, "not_paid")
        self.assertFalse(other.is_reconciled)
