from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common_flow import ShopOrderFlowCase


@tagged("post_install", "-at_install")
class TestOrderFlow(ShopOrderFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls._create_storable(qty=10)

    def _mails(self, record, subject_part):
        """Customer mails on ``record`` whose subject contains ``subject_part``."""
        mails = record.message_ids.filtered(lambda m: subject_part in (m.subject or ""))
        for mail in mails:
            self.assertIn(self.customer, mail.partner_ids, "sent to the customer")
        return mails

    def test_prepayment_waits_for_payment_then_ships_invoices_and_mails(self):
        order = self._create_shop_order(self.product, "prepayment", qty=2)
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "waiting_payment")
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.picking_ids, "nothing ships before the payment")
        self.assertEqual(len(self._mails(order, "we received your order 1001")), 1)

        order._shop_start_processing()  # started twice: nothing happens twice
        order.action_shop_payment_received()
        order.action_shop_payment_received()
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.shop_paid_date)
        self.assertEqual(len(order.picking_ids), 1)
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")

        self._ship(picking, tracking_ref="00340434")
        self.assertEqual(picking.state, "done")
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.is_move_sent)
        self.assertTrue(invoice.invoice_pdf_report_id, "the invoice PDF is stored")
        self.assertEqual(order.shop_invoice_mail_state, "done")
        self.assertEqual(order.shop_release_state, "done")
        shipped = self._mails(picking, "is on its way")
        self.assertEqual(len(shipped), 1)
        self.assertIn("00340434", shipped.body)
        job = self.env["shop.sync.job"].search([("picking_id", "=", picking.id)])
        self.assertEqual(job.kind, "confirm_shipment")
        self.assertEqual(job.state, "pending")
        self.assertEqual(len(self._mails(order, "we received your order")), 1, "sent once")
        invoice_mail = self._mails(invoice, "invoice")
        self.assertEqual(len(invoice_mail), 1)
        self.assertTrue(invoice_mail.attachment_ids, "the invoice PDF is attached")

    def test_warehouse_user_without_shop_rights_ships_and_the_rest_follows(self):
        order = self._create_shop_order(self.product, "paypal")
        order._shop_start_processing()
        packer = new_test_user(
            self.env,
            login="packer",
            groups="stock.group_stock_user",
            company_id=self.env.company.id,
        )
        picking = order.picking_ids.with_user(packer)
        self._ship(picking)
        self.assertEqual(order.picking_ids.state, "done")
        self.assertEqual(order.invoice_ids.state, "posted")
        self.assertEqual(order.shop_invoice_mail_state, "done")
        job = self.env["shop.sync.job"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(job.kind, "confirm_shipment")

    def test_invoice_made_at_payment_is_mailed_after_shipping(self):
        product = self._create_storable(default_code="MUG-O", invoice_policy="order")
        order = self._create_shop_order(product, "prepayment")
        order._shop_start_processing()
        order.action_shop_payment_received()
        invoice = order._create_invoices()  # as the payment matching does
        invoice.action_post()
        self.assertFalse(invoice.is_move_sent)
        self._ship(order.picking_ids)
        self.assertEqual(order.invoice_ids, invoice, "no second invoice")
        self.assertTrue(invoice.is_move_sent)
        self.assertEqual(order.shop_invoice_mail_state, "done")

    def test_paypal_order_is_released_at_once(self):
        order = self._create_shop_order(self.product, "paypal")
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "released")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.picking_ids.state, "assigned")

    def test_unknown_payment_method_is_an_exception(self):
        order = self._create_shop_order(self.product, "bitcoin")
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "exception")
        self.assertIn("bitcoin", order.shop_case_id.description)

    def test_invoice_order_over_credit_limit_opens_a_case_until_resumed(self):
        self.customer.credit_limit = 5.0
        order = self._create_shop_order(self.product, "invoice", qty=2)
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "exception")
        self.assertEqual(order.state, "draft")
        case = order.shop_case_id
        self.assertEqual(case.sale_order_id, order)
        self.assertEqual(case.partner_id, self.customer)
        self.assertIn("credit limit", case.description)

        order.action_shop_resume()
        self.assertEqual(order.shop_release_state, "released")
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.picking_ids)
        order.action_shop_resume()  # resumed twice: nothing happens twice
        self.assertEqual(len(order.picking_ids), 1)

    def test_resumed_prepayment_order_still_waits_for_its_payment(self):
        order = self._create_shop_order(self.product, "prepayment", shop_release_state="exception")
        order.action_shop_resume()
        self.assertEqual(order.shop_release_state, "waiting_payment")
        self.assertTrue(order.shop_received_mail_sent)
        self.assertFalse(order.picking_ids)
        order.action_shop_payment_received()
        self.assertEqual(order.state, "sale")

    def test_invoice_order_within_credit_limit_is_released(self):
        self.customer.credit_limit = 1000.0
        order = self._create_shop_order(self.product, "invoice")
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "released")
        self.assertFalse(order.shop_case_id)

    def test_cancel_before_shipping_cancels_the_delivery(self):
        order = self._create_shop_order(self.product, "credit_card")
        order._shop_start_processing()
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        order._action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(picking.state, "cancel")
        self.assertFalse(self.env["shop.sync.job"].search([("sale_order_id", "=", order.id)]))

    def test_failed_invoice_is_recorded_and_retried(self):
        order = self._create_shop_order(self.product, "paypal")
        order._shop_start_processing()
        order_class = type(order)
        with patch.object(order_class, "_create_invoices", side_effect=ValueError("no journal")):
            self._ship(order.picking_ids)
        self.assertEqual(order.picking_ids.state, "done", "the delivery is not blocked")
        self.assertEqual(order.shop_invoice_mail_state, "error")
        self.assertIn("no journal", order.shop_invoice_mail_error)
        self.assertTrue(order.activity_ids)
        self.assertFalse(order.invoice_ids)

        order.action_shop_send_invoice()
        self.assertEqual(order.shop_invoice_mail_state, "done")
        self.assertEqual(order.invoice_ids.state, "posted")

    def test_overdue_payment_opens_one_case_with_a_reminder(self):
        self.shop.payment_overdue_days = 5
        old = self._create_shop_order(
            self.product,
            "bank_transfer",
            date_order=fields.Datetime.now() - timedelta(days=6),
        )
        recent = self._create_shop_order(self.product, "bank_transfer", shop_external_ref="1002")
        (old | recent)._shop_start_processing()
        self._run_cron("shop_connector.ir_cron_payment_overdue")
        self._run_cron("shop_connector.ir_cron_payment_overdue")
        cases = self.env["crm.shop.case"].search([("sale_order_id", "in", (old | recent).ids)])
        self.assertEqual(cases, old.shop_overdue_case_id)
        self.assertEqual(len(cases), 1)
        reminder = cases.message_ids.filtered(
            lambda m: "payment of your order" in (m.subject or "")
        )
        self.assertEqual(len(reminder), 1)
        self.assertIn(self.customer, reminder.partner_ids)

        old.action_shop_payment_received()
        self.assertEqual(old.state, "sale")
