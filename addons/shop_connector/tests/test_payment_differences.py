from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .payment_common import ShopPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentDifferences(ShopPaymentCase):
    """Overpayments (kept as credit or written off) and payments in another currency."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.writeoff_account = cls.company_data["default_account_revenue"].copy(
            {"name": "Payment differences", "code": "799900"}
        )
        cls.bank_account.write(
            {"writeoff_account_id": cls.writeoff_account.id, "writeoff_tolerance": 1.0}
        )
        cls.euro = cls.setup_other_currency("EUR")  # 1 USD = 2 EUR since 2017

    def _proposal(self, line):
        return line.shop_match_ids.filtered(lambda m: m.state == "proposed").sorted(
            lambda m: -m.score
        )[:1]

    def _writeoff_lines(self, line):
        return line.move_id.line_ids.filtered(lambda aml: aml.account_id == self.writeoff_account)

    def _customer_credit(self):
        return sum(
            self.env["account.move.line"]
            .search(
                [
                    ("partner_id", "=", self.customer.id),
                    ("account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                    ("parent_state", "=", "posted"),
                ]
            )
            .mapped("amount_residual")
        )

    # --- overpayments ------------------------------------------------------------------

    def test_overpayment_is_shown_and_kept_as_customer_credit(self):
        invoice = self._create_invoice(100.00)
        line = self._import(self._create_transaction(100.80, invoice.name))
        match = self._proposal(line)
        self.assertEqual(match.invoice_ids, invoice)
        self.assertAlmostEqual(match.amount_due, 100.00)
        self.assertAlmostEqual(match.amount_difference, 0.80)
        self.assertEqual(match.difference_handling, "credit")
        match.action_confirm()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(line.is_reconciled)
        self.assertFalse(self._writeoff_lines(line))
        self.assertAlmostEqual(self._customer_credit(), -0.80)
        self.assertFalse(match.writeoff_amount)
        self.assertIn("kept as the customer's credit", match.message_ids[:1].body)

    def test_small_overpayment_is_written_off_when_staff_choose_it(self):
        invoice = self._create_invoice(100.00)
        line = self._import(self._create_transaction(100.80, invoice.name))
        match = self._proposal(line)
        match.difference_handling = "writeoff"
        match.action_confirm()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(line.is_reconciled)
        writeoff = self._writeoff_lines(line)
        self.assertAlmostEqual(writeoff.balance, -0.80)
        self.assertAlmostEqual(self._customer_credit(), 0.0)
        self.assertAlmostEqual(match.writeoff_amount, 0.80)
        self.assertIn("written off", match.message_ids[:1].body)

    def test_small_underpayment_is_written_off_and_settles_the_invoice(self):
        invoice = self._create_invoice(100.00)
        line = self._import(self._create_transaction(99.50, invoice.name))
        match = self._proposal(line)
        self.assertAlmostEqual(match.amount_difference, -0.50)
        match.difference_handling = "writeoff"
        match.action_confirm()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(self._writeoff_lines(line).balance, 0.50)

    def test_writeoff_above_the_tolerance_is_refused_and_nothing_is_booked(self):
        invoice = self._create_invoice(100.00)
        line = self._import(self._create_transaction(110.00, invoice.name))
        match = self._proposal(line)
        match.difference_handling = "writeoff"
        with self.assertRaisesRegex(UserError, "above the write-off tolerance"):
            match.action_confirm()
        self.assertEqual(match.state, "proposed")
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")
        # kept as credit instead, it goes through
        match.difference_handling = "credit"
        match.action_confirm()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(self._customer_credit(), -10.00)

    def test_writeoff_without_an_account_is_refused(self):
        self.bank_account.writeoff_account_id = False
        invoice = self._create_invoice(100.00)
        line = self._import(self._create_transaction(100.50, invoice.name))
        match = self._proposal(line)
        match.difference_handling = "writeoff"
        with self.assertRaisesRegex(UserError, "no write-off account"):
            match.action_confirm()
        self.assertFalse(line.is_reconciled)

    def test_overpaid_prepayment_order_written_off_releases_and_settles(self):
        product = self.env["product.product"].create(
            {"name": "Lily", "type": "consu", "list_price": 50.0, "taxes_id": [Command.clear()]}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.shop_release_state = "waiting_payment"
        line = self._import(self._create_transaction(50.40, order.name))
        match = self._proposal(line)
        self.assertEqual(match.sale_order_id, order)
        self.assertAlmostEqual(match.amount_difference, 0.40)
        match.difference_handling = "writeoff"
        match.action_confirm()
        self.assertEqual(order.shop_release_state, "released")
        self.assertIn(order.invoice_ids.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(self._writeoff_lines(line).balance, -0.40)
        self.assertAlmostEqual(self._customer_credit(), 0.0)

    # --- foreign currency --------------------------------------------------------------

    def test_payment_in_another_currency_is_converted_and_confirmed(self):
        invoice = self._create_invoice(100.00)  # USD, the company's currency
        line = self._import(self._create_transaction(200.00, invoice.name, currency="EUR"))
        self.assertEqual(line.foreign_currency_id, self.euro)
        self.assertAlmostEqual(line.amount, 100.00)
        match = self._proposal(line)
        self.assertEqual(match.invoice_ids, invoice)
        evidence = match.evidence_ids.filtered(lambda e: e.rule == "amount_converted")
        self.assertIn("converted at rate 0.5 = 100.00 USD", evidence.detail)
        self.assertTrue(match.needs_person)
        self.assertIn("foreign currency", match.reason)
        self.assertAlmostEqual(match.amount_difference, 0.0)
        match.action_confirm()
        self.assertTrue(line.is_reconciled)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_foreign_currency_invoice_paid_in_its_currency(self):
        invoice = self._create_invoice(200.00, currency=self.euro)  # 100 USD
        line = self._import(self._create_transaction(200.00, invoice.name, currency="EUR"))
        match = self._proposal(line)
        self.assertEqual(match.invoice_ids, invoice)
        self.assertIn("amount_equal", match.evidence_ids.mapped("rule"))
        match.action_confirm()
        self.assertTrue(line.is_reconciled)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_converted_amount_that_does_not_fit_is_left_to_a_person(self):
        self.bank_account.auto_confirm = True
        invoice = self._create_invoice(100.00)
        line = self._import(self._create_transaction(150.00, invoice.name, currency="EUR"))
        match = self._proposal(line)
        self.assertEqual(match.state, "proposed", "never confirmed automatically")
        self.assertIn("currency_differs", match.evidence_ids.mapped("rule"))
        self.assertIn("the amounts differ", match.reason)

    def test_paid_in_a_third_currency_is_refused_with_the_reason(self):
        chf = self.setup_other_currency("CHF", rates=[("1900-01-01", 1.0)])
        invoice = self._create_invoice(200.00, currency=self.euro)
        line = self._import(self._create_transaction(100.00, invoice.name, currency="CHF"))
        self.assertEqual(line.foreign_currency_id, chf)
        match = self._proposal(line)
        match.invoice_ids = invoice
        with self.assertRaisesRegex(UserError, "Paid in CHF for an amount due in EUR"):
            match.action_confirm()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(match.state, "proposed")
