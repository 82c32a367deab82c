from datetime import timedelta
from decimal import Decimal

from lxml import etree

from odoo.tests import tagged

from odoo.addons.mail_crm_shop.services.errors import TransientError

from ..services.confirmation import Confirmation
from .common import FakeTransport, ShippingExchangeCase


def _cod_by_delivery(payload):
    """{delivery reference: cash-on-delivery amount or None} of a delivery order file."""
    root = etree.fromstring(payload)
    return {
        node.get("reference"): node.findtext("{*}CashOnDelivery")
        for node in root.iter("{*}Delivery")
    }


@tagged("post_install", "-at_install")
class TestCashOnDeliveryOnce(ShippingExchangeCase):
    """The carrier collects a cash-on-delivery order's amount once: with the first delivery
    of the order that reached it. Backorders and split deliveries go without."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profile = cls._create_profile(name="Parcel carrier", confirmation_dir="/out")
        cls._create_rule(name="All", profile_id=cls.profile.id)
        cls.kettle = cls._create_product(
            name="Kettle", default_code="KETTLE", is_storable=True, list_price=30.0
        )
        cls.mug = cls._create_product(
            name="Mug", default_code="MUG", is_storable=True, list_price=10.0
        )

    def setUp(self):
        super().setUp()
        if "shop_payment_method" not in self.env["sale.order"]._fields:
            self.skipTest("cash on delivery needs the shop connector (shop_payment_method)")
        self.transport = self._use_transport(FakeTransport())

    def _cod_order(self, quantities):
        order = self.env["sale.order"].create(
            {
                "partner_id": self._create_partner().id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in quantities.items()
                ],
            }
        )
        order.shop_payment_method = "cod"
        order.action_confirm()
        self.assertGreater(order.amount_total, 0)
        return order

    def _send(self, when=None):
        """{delivery reference: COD amount or None} of the files uploaded by one send run."""
        uploads = len(self.transport.uploads)
        self._run_cron("ir_cron_send", when)
        sent = {}
        for _name, payload in self.transport.uploads[uploads:]:
            sent.update(_cod_by_delivery(payload))
        return sent

    def _amount(self, order):
        return f"{Decimal(str(order.amount_total)):.2f}"

    def _split_off(self, picking, product):
        """The warehouse splits the lines of ``product`` off ``picking`` ("Split")."""
        for move in picking.move_ids:
            move.quantity = 0 if move.product_id == product else move.product_uom_qty
        picking.action_split_transfer()
        split = self.env["stock.picking"].search([("backorder_id", "=", picking.id)])
        self.assertEqual(split.move_ids.product_id, product)
        self.assertEqual(split.state, "assigned")
        return split

    def _noted(self, picking, collector):
        return picking.message_ids.filtered(
            lambda m: (
                "Cash on delivery is collected with delivery" in str(m.body)
                and collector.name in str(m.body)
            )
        )

    def test_backorder_of_a_partly_confirmed_delivery_goes_without_cod(self):
        self._put_in_stock(self.kettle, 5)
        order = self._cod_order({self.kettle: 5})
        first = order.picking_ids
        record = first.shipping_exchange_record_ids
        # the first delivery takes the whole order amount to the carrier
        self.assertEqual(self._send(), {first.name: self._amount(order)})
        self.assertEqual(record.state, "sent", record.last_error)
        self.assertTrue(first.shipping_exchange_cod_sent)
        # the carrier ships 2 of the 5 kettles sent: the rest becomes a backorder
        lines = (("KETTLE", Decimal(2)),)
        record._confirm_delivery(Confirmation(first.name, "T-1", "", lines, None))
        self.assertEqual(first.state, "done")
        backorder = self.env["stock.picking"].search([("backorder_id", "=", first.id)])
        self.assertEqual(backorder.state, "assigned")
        follow_up = backorder.shipping_exchange_record_ids
        self.assertEqual(len(follow_up), 1)
        # the customer paid the whole amount with the first parcel: no COD again
        self.assertEqual(self._send(), {backorder.name: None})
        self.assertEqual(follow_up.state, "sent", follow_up.last_error)
        self.assertFalse(backorder.shipping_exchange_cod_sent)
        self.assertIsNone(backorder._shipping_exchange_delivery().cod_amount)  # nor on the PDF
        self.assertEqual(len(self._noted(backorder, first)), 1)  # built twice, noted once
        self.assertFalse(self._noted(first, backorder))

    def test_backorder_of_a_collected_order_is_sent_with_what_is_reserved(self):
        self._put_in_stock(self.kettle, 5)
        order = self._cod_order({self.kettle: 5})
        first = order.picking_ids
        self.assertEqual(self._send(), {first.name: self._amount(order)})
        lines = (("KETTLE", Decimal(2)),)
        record = first.shipping_exchange_record_ids
        record._confirm_delivery(Confirmation(first.name, "T-1", "", lines, None))
        backorder = self.env["stock.picking"].search([("backorder_id", "=", first.id)])
        # the warehouse finds only one of the three kettles left: the backorder, without
        # COD, does not wait for the other two
        backorder.move_ids.quantity = 1
        backorder.shipping_exchange_record_ids.action_cancel()
        self.assertEqual(backorder.move_ids.state, "partially_available")
        self._run_cron("ir_cron_route")
        follow_up = backorder.shipping_exchange_record_ids.filtered(lambda r: r.state != "cancel")
        self.assertEqual(len(follow_up), 1)
        self.assertEqual(self._send(), {backorder.name: None})
        self.assertEqual(follow_up.state, "sent", follow_up.last_error)

    def test_retries_of_the_same_delivery_keep_cod(self):
        self._put_in_stock(self.kettle, 2)
        order = self._cod_order({self.kettle: 2})
        delivery = order.picking_ids
        record = delivery.shipping_exchange_record_ids
        self.transport.fail_with = TransientError("host down")
        self.assertEqual(self._send(), {})
        self.assertEqual(record.state, "error")
        self.assertFalse(delivery.shipping_exchange_cod_sent)  # nothing reached the carrier
        self.transport.fail_with = None
        self.assertEqual(self._send(record.next_attempt_date), {delivery.name: self._amount(order)})
        self.assertEqual(record.state, "sent", record.last_error)
        # the carrier lost the file: the record is cancelled, the delivery routed again
        record.action_cancel()
        self._run_cron("ir_cron_route")
        again = delivery.shipping_exchange_record_ids - record
        self.assertEqual(len(again), 1)
        self.assertEqual(self._send(), {delivery.name: self._amount(order)})
        self.assertEqual(again.state, "sent", again.last_error)
        self.assertFalse(self._noted(delivery, delivery))

    def test_first_delivery_cancelled_before_the_carrier_leaves_cod_to_the_next(self):
        self._put_in_stock(self.kettle, 2)
        self._put_in_stock(self.mug, 3)
        order = self._cod_order({self.kettle: 2, self.mug: 3})
        first = order.picking_ids
        first_record = first.shipping_exchange_record_ids
        second = self._split_off(first, self.mug)
        second_record = second.shipping_exchange_record_ids
        self.assertEqual(len(second_record), 1)
        self.assertGreater(second_record.id, first_record.id)
        # nothing reaches the carrier; the first delivery's record is then cancelled
        self.transport.fail_with = TransientError("host down")
        self.assertEqual(self._send(), {})
        self.assertEqual((first_record + second_record).mapped("state"), ["error", "error"])
        first_record.action_cancel()
        self.transport.fail_with = None
        retry_at = second_record.next_attempt_date
        # the second delivery is the first to reach the carrier: it collects the amount
        self.assertEqual(self._send(retry_at), {second.name: self._amount(order)})
        self.assertEqual(second_record.state, "sent", second_record.last_error)
        # the first delivery, routed and sent again later, goes without
        self._run_cron("ir_cron_route", retry_at)
        first_again = first.shipping_exchange_record_ids - first_record
        self.assertEqual(len(first_again), 1)
        self.assertEqual(self._send(retry_at + timedelta(minutes=1)), {first.name: None})
        self.assertEqual(first_again.state, "sent", first_again.last_error)
        self.assertTrue(self._noted(first, second))
        self.assertFalse(self._noted(second, first))

    def test_split_deliveries_in_one_batch_file_carry_cod_once(self):
        self.profile.send_batched = True
        self._put_in_stock(self.kettle, 2)
        self._put_in_stock(self.mug, 3)
        order = self._cod_order({self.kettle: 2, self.mug: 3})
        first = order.picking_ids
        second = self._split_off(first, self.mug)
        records = first.shipping_exchange_record_ids + second.shipping_exchange_record_ids
        uploads = len(self.transport.uploads)
        sent = self._send()
        self.assertEqual(len(self.transport.uploads) - uploads, 1)  # one file for both
        self.assertEqual(sent, {first.name: self._amount(order), second.name: None})
        self.assertEqual(records.mapped("state"), ["sent", "sent"])
        self.assertTrue(self._noted(second, first))
