from odoo import Command
from odoo.tests import tagged

from .payment_common import ShopPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentShopNumber(ShopPaymentCase):
    """PayPal and bank transfers name the shop's order number, not ours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create(
            {
                "name": "Rose",
                "type": "consu",
                "list_price": 59.90,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )

    def _create_order(self, shop_ref, **overrides):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "shop_external_ref": shop_ref,
                "client_order_ref": shop_ref,
                "order_line": [Command.create({"product_id": self.product.id})],
                **overrides,
            }
        )

    def _invoiced_order(self, shop_ref, qty=1):
        order = self._create_order(
            shop_ref,
            order_line=[Command.create({"product_id": self.product.id, "product_uom_qty": qty})],
        )
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        return order, invoice

    def test_shop_number_on_a_paypal_payment_confirms_the_invoice(self):
        self.bank_account.write({"auto_confirm": True, "auto_confirm_threshold": 80})
        _order, invoice = self._invoiced_order("#900000")
        self._invoiced_order("#900001", qty=2)  # same customer, another number
        txn = self._create_transaction(
            invoice.amount_total,
            "Bestellung #900000",
            counterparty_iban="",
            counterparty_email="sophie@example.com",
            end_to_end_id="900000",
        )
        line = self._import(txn)
        match = line.shop_match_ids.filtered(lambda m: m.state == "auto_confirmed")
        self.assertEqual(match.invoice_ids, invoice)
        evidence = match.evidence_ids.filtered(lambda e: e.rule == "reference_exact")
        self.assertIn("shop order number", evidence.detail)
        self.assertTrue(line.is_reconciled)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_shop_number_in_a_transfer_releases_the_prepayment_order(self):
        self.bank_account.write({"auto_confirm": True, "auto_confirm_threshold": 80})
        order = self._create_order("900002", shop_payment_method="prepayment")
        order.shop_release_state = "waiting_payment"
        line = self._import(self._create_transaction(order.amount_total, "Bestellnr 900002"))
        match = line.shop_match_ids.filtered(lambda m: m.state == "auto_confirmed")
        self.assertEqual(match.sale_order_id, order)
        self.assertEqual(order.shop_release_state, "released")
        self.assertEqual(order.state, "sale")

    def test_shop_number_with_a_wrong_amount_is_only_proposed(self):
        self.bank_account.write({"auto_confirm": True, "auto_confirm_threshold": 80})
        _order, invoice = self._invoiced_order("#900003")
        line = self._import(self._create_transaction(10.00, "Bestellung #900003"))
        self.assertFalse(line.is_reconciled)
        match = line.shop_match_ids.sorted("score", reverse=True)[:1]
        self.assertEqual(match.state, "proposed")
        self.assertEqual(match.invoice_ids, invoice)
        # a person confirms once the rest arrives: the reference is kept as evidence
        self.assertIn("reference_exact", match.evidence_ids.mapped("rule"))

    def test_without_auto_confirm_the_shop_number_is_proposed(self):
        _order, invoice = self._invoiced_order("#900004")
        line = self._import(self._create_transaction(invoice.amount_total, "#900004"))
        match = line.shop_match_ids.sorted("score", reverse=True)[:1]
        self.assertEqual(match.state, "proposed")
        self.assertEqual(match.invoice_ids, invoice)
        self.assertGreaterEqual(match.score, 80)
