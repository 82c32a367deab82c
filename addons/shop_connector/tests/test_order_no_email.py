from odoo.tests import tagged

from .common_flow import ShopOrderFlowCase


@tagged("post_install", "-at_install")
class TestOrderWithoutEmail(ShopOrderFlowCase):
    """A customer without an e-mail address (a masked marketplace buyer) gets no mails."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls._create_storable(qty=10)
        cls.buyer = cls.env["res.partner"].create({"name": "Masked Buyer", "email": False})

    def test_no_mail_is_queued_and_the_order_says_why(self):
        order = self._create_shop_order(self.product, "paypal", partner_id=self.buyer.id)
        order._shop_start_processing()
        self.assertEqual(order.state, "sale", "the order still runs")
        picking = order.picking_ids
        self._ship(picking, tracking_ref="00340434")
        self.assertEqual(picking.state, "done")
        to_buyer = (
            self.env["mail.mail"].search([]).filtered(lambda m: self.buyer in m.recipient_ids)
        )
        self.assertFalse(to_buyer, "nothing queued for a customer without an address")
        notes = order.message_ids.filtered(lambda m: "has no e-mail address" in (m.body or ""))
        self.assertEqual(len(notes), 2, "order received and shipped: each noted once")

    def test_a_customer_with_an_address_still_gets_the_mail(self):
        order = self._create_shop_order(self.product, "paypal")
        order._shop_start_processing()
        self.assertTrue(order.shop_received_mail_sent)
        self.assertFalse(
            order.message_ids.filtered(lambda m: "has no e-mail address" in (m.body or ""))
        )
