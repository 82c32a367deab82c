import json
from decimal import Decimal

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..services.confirmation import Confirmation
from .common import FakeTransport, ShippingExchangeCase


def _confirmation_file(reference, tracking):
    return (
        f'<Confirmations><Confirmation reference="{reference}">'
        f"<TrackingNumber>{tracking}</TrackingNumber><Carrier>DHL</Carrier>"
        f"</Confirmation></Confirmations>"
    ).encode()


def _lines(payload):
    """{sku: quantity} of the delivery order file."""
    root = etree.fromstring(payload)
    return {line.findtext("{*}Sku"): line.findtext("{*}Quantity") for line in root.iter("{*}Line")}


@tagged("post_install", "-at_install")
class TestPartialReservation(ShippingExchangeCase):
    """With "as soon as possible" a delivery is ready when part of it is reserved: the
    carrier gets that part, the rest follows on a backorder once it is reserved."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parcel = cls._create_profile(name="Parcel carrier", confirmation_dir="/out")
        cls.freight = cls._create_profile(name="Freight", confirmation_dir=False)
        cls._create_rule(name="Up to 5 kg", sequence=1, profile_id=cls.parcel.id, max_weight=5)
        cls._create_rule(name="Heavier", sequence=2, profile_id=cls.freight.id)
        cls.kettle = cls._create_product(
            name="Kettle", default_code="KETTLE", is_storable=True, weight=1.5, volume=0.01
        )
        cls.mug = cls._create_product(
            name="Mug", default_code="MUG", is_storable=True, weight=0.5, volume=0.002
        )

    def _move(self, picking, product):
        return picking.move_ids.filtered(lambda m: m.product_id == product)

    def _send(self, transport):
        uploads = len(transport.uploads)
        self._run_cron("ir_cron_send")
        return transport.uploads[uploads:]

    def _partly_reserved_delivery(self):
        """5 kettles (2 in stock) and 5 mugs (none in stock), confirmed."""
        self._put_in_stock(self.kettle, 2)
        picking = self._create_picking(products=self.kettle | self.mug, qty=5)
        picking.action_confirm()
        self.assertEqual(picking.state, "assigned")  # "as soon as possible": ready
        self.assertEqual(self._move(picking, self.kettle).quantity, 2)
        self.assertEqual(self._move(picking, self.mug).quantity, 0)
        return picking

    def _sent_partly_reserved_delivery(self, transport):
        picking = self._partly_reserved_delivery()
        record = picking.shipping_exchange_record_ids
        [(_name, payload)] = self._send(transport)
        self.assertEqual(record.state, "sent", record.last_error)
        self.assertEqual(_lines(payload), {"KETTLE": "2"})
        return picking, record

    def _backorder(self, picking):
        return self.env["stock.picking"].search([("backorder_id", "=", picking.id)])

    # --- export ---------------------------------------------------------------------

    def test_carrier_gets_the_reserved_quantities_and_routing_weighs_them(self):
        transport = self._use_transport(FakeTransport())
        picking = self._partly_reserved_delivery()
        facts = picking._shipping_exchange_facts()
        self.assertEqual(facts.weight_kg, Decimal("3.0"))  # 2 x 1.5 kg, not the 10 kg ordered
        self.assertEqual(facts.volume_m3, Decimal("0.02"))
        record = picking.shipping_exchange_record_ids
        self.assertEqual(record.profile_id, self.parcel)  # the whole order is for freight
        [(_name, payload)] = self._send(transport)
        self.assertEqual(_lines(payload), {"KETTLE": "2"})  # no mug line: none reserved
        self.assertNotIn(b"MUG", payload)
        self.assertEqual(
            picking.shipping_exchange_sent_quantities,
            {str(self._move(picking, self.kettle).id): "2.0"},
        )

    def test_fully_reserved_delivery_is_sent_as_ordered(self):
        transport = self._use_transport(FakeTransport())
        self._put_in_stock(self.kettle, 5)
        self._put_in_stock(self.mug, 5)
        picking = self._create_picking(products=self.mug | self.kettle, qty=5)
        picking.action_confirm()  # reserves line after line: routed once all are reserved
        self.assertEqual(picking._shipping_exchange_facts().weight_kg, Decimal("10.0"))
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.freight)
        [(_name, payload)] = self._send(transport)
        self.assertEqual(_lines(payload), {"KETTLE": "5", "MUG": "5"})

    # --- cash on delivery -----------------------------------------------------------

    def _order(self, qty, cod=True):
        order = self.env["sale.order"].create(
            {
                "partner_id": self._create_partner().id,
                "order_line": [(0, 0, {"product_id": self.kettle.id, "product_uom_qty": qty})],
            }
        )
        if cod:
            order.shop_payment_method = "cod"
        order.action_confirm()
        return order, order.picking_ids

    def test_partly_reserved_cash_on_delivery_waits_until_reserved_in_full(self):
        transport = self._use_transport(FakeTransport())
        cod = "shop_payment_method" in self.env["sale.order"]._fields  # the shop connector
        self._put_in_stock(self.kettle, 2)
        order, delivery = self._order(5, cod=cod)
        self.assertEqual(delivery.state, "assigned")
        if not cod:  # without the shop connector there is no cash on delivery
            self.assertEqual(_lines(self._send(transport)[0][1]), {"KETTLE": "2"})
            return
        # the carrier would collect the whole order amount for 2 of 5 kettles: it waits
        self.assertFalse(delivery.shipping_exchange_record_ids)
        self.assertFalse(delivery.shipping_exchange_held)
        self._run_cron("ir_cron_route")
        self.assertFalse(delivery.shipping_exchange_record_ids)
        self.assertEqual(self._send(transport), [])

        self._receive_goods({self.kettle: 3})  # the rest arrives: reserved in full, routed
        self.assertEqual(delivery.move_ids.quantity, 5)
        record = delivery.shipping_exchange_record_ids
        self.assertEqual(record.profile_id, self.freight)
        [(_name, payload)] = self._send(transport)
        self.assertEqual(record.state, "sent", record.last_error)
        self.assertEqual(_lines(payload), {"KETTLE": "5"})
        self.assertIn(b"<CashOnDelivery", payload)
        self.assertIn(order.name.encode(), payload)

    def test_cash_on_delivery_unreserved_after_routing_is_not_sent(self):
        transport = self._use_transport(FakeTransport())
        cod = "shop_payment_method" in self.env["sale.order"]._fields  # the shop connector
        self._put_in_stock(self.kettle, 5)
        _order, delivery = self._order(5, cod=cod)
        record = delivery.shipping_exchange_record_ids
        self.assertTrue(record)
        delivery.move_ids.quantity = 2  # the warehouse takes 3 kettles back before sending
        self.assertEqual(delivery.move_ids.state, "partially_available")
        if not cod:  # a delivery without cash on delivery goes with what is reserved
            self.assertEqual(_lines(self._send(transport)[0][1]), {"KETTLE": "2"})
            return
        self.assertEqual(self._send(transport), [])
        self.assertEqual(record.state, "failed")
        self.assertIn("cash on delivery but not reserved in full", record.last_error)
        self.assertTrue(record.activity_ids)
        # reserved in full again, the person retries: sent, with all five
        delivery.action_assign()
        self.assertEqual(delivery.move_ids.quantity, 5)
        record.action_retry()
        [(_name, payload)] = self._send(transport)
        self.assertEqual(record.state, "sent", record.last_error)
        self.assertEqual(_lines(payload), {"KETTLE": "5"})

    # --- confirmation and backorder ---------------------------------------------------

    def test_confirmation_ships_what_was_sent_even_if_more_was_reserved_since(self):
        transport = self._use_transport(FakeTransport())
        picking, record = self._sent_partly_reserved_delivery(transport)
        self._receive_goods({self.kettle: 3})  # after sending: the delivery now reserves all five
        self.assertEqual(self._move(picking, self.kettle).quantity, 5)
        self.assertFalse(self._send(transport))  # sent once
        transport.files["conf.xml"] = _confirmation_file(picking.name, "T-1")
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertEqual(record.state, "confirmed")
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.mapped("quantity"), [2.0])  # the two sent kettles
        self.assertEqual(self.kettle.qty_available, 3)
        backorder = self._backorder(picking)
        left = {m.product_id: m.product_uom_qty for m in backorder.move_ids}
        self.assertEqual(left, {self.kettle: 3.0, self.mug: 5.0})
        # the three kettles are reserved on the backorder: it is routed and sent on its own
        self.assertEqual(backorder.state, "assigned")
        follow_up = backorder.shipping_exchange_record_ids
        self.assertEqual(len(follow_up), 1)
        [(_name, payload)] = self._send(transport)
        self.assertEqual(follow_up.state, "sent", follow_up.last_error)
        self.assertEqual(_lines(payload), {"KETTLE": "3"})
        self.assertIn(backorder.name.encode(), payload)

    def test_backorder_is_sent_once_after_its_goods_arrive(self):
        transport = self._use_transport(FakeTransport())
        picking, record = self._sent_partly_reserved_delivery(transport)
        transport.files["conf.xml"] = _confirmation_file(picking.name, "T-1")
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.carrier_tracking_ref, "T-1")
        backorder = self._backorder(picking)
        self.assertEqual(len(backorder), 1)
        note = record.message_ids.filtered(lambda m: "Partly shipped" in (m.body or ""))
        self.assertIn(backorder.name, note.body)
        # nothing of the rest in stock: the backorder waits, nobody sends it
        self.assertEqual(backorder.state, "confirmed")
        self._run_cron("ir_cron_route")
        self.assertFalse(backorder.shipping_exchange_record_ids)
        self.assertFalse(backorder.shipping_exchange_held)
        self.assertFalse(self._send(transport))

        self._receive_goods({self.kettle: 3, self.mug: 5})
        self.assertEqual(backorder.state, "assigned")
        follow_up = backorder.shipping_exchange_record_ids
        self.assertEqual(follow_up.profile_id, self.freight)  # 3 x 1.5 + 5 x 0.5 = 7 kg
        [(_name, payload)] = self._send(transport)
        self.assertEqual(_lines(payload), {"KETTLE": "3", "MUG": "5"})
        # reserved again, routed again, sent again: still once
        backorder.action_assign()
        self._run_cron("ir_cron_route")
        self.assertEqual(backorder.shipping_exchange_record_ids, follow_up)
        self.assertFalse(self._send(transport))
        self.assertEqual(
            follow_up._confirm_delivery(Confirmation(backorder.name, "T-2", "", (), None)), 1
        )
        self.assertEqual(backorder.state, "done")
        self.assertFalse(self._backorder(backorder))
        self.assertEqual((self.kettle.qty_available, self.mug.qty_available), (0, 0))

    def test_confirmed_quantities_above_what_was_sent_are_capped(self):
        transport = self._use_transport(FakeTransport())
        picking, record = self._sent_partly_reserved_delivery(transport)
        lines = (("KETTLE", Decimal(5)), ("MUG", Decimal(5)))
        record._confirm_delivery(Confirmation(picking.name, "T-1", "", lines, None))
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.mapped("quantity"), [2.0])
        left = {m.product_id: m.product_uom_qty for m in self._backorder(picking).move_ids}
        self.assertEqual(left, {self.kettle: 3.0, self.mug: 5.0})

    def test_portal_quantities_above_what_was_sent_are_capped(self):
        transport = self._use_transport(FakeTransport())
        picking, record = self._sent_partly_reserved_delivery(transport)
        kettle, mug = self._move(picking, self.kettle), self._move(picking, self.mug)
        # the portal offers the ordered quantities; the carrier got 2 kettles and no mug
        quantities = {kettle.id: Decimal(5), mug.id: Decimal(5)}
        record._confirm_delivery(Confirmation(picking.name, "T-1", "", (), None), quantities)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.mapped("quantity"), [2.0])
        left = {m.product_id: m.product_uom_qty for m in self._backorder(picking).move_ids}
        self.assertEqual(left, {self.kettle: 3.0, self.mug: 5.0})

    def test_portal_offers_what_was_sent(self):
        transport = self._use_transport(FakeTransport())
        picking, record = self._sent_partly_reserved_delivery(transport)
        kettle, mug = self._move(picking, self.kettle), self._move(picking, self.mug)
        # the carrier got 2 kettles and no mug: the portal lists and checks only those
        self.assertEqual(record._portal_moves(), kettle)
        self.assertEqual(record._portal_sent_quantities(), {kettle.id: Decimal(2)})
        with self.assertRaisesRegex(UserError, "above the 2 to ship"):
            record._confirm_from_portal("T-1", {kettle.id: "3"})
        with self.assertRaisesRegex(UserError, "not part of the delivery"):
            record._confirm_from_portal("T-1", {mug.id: "1"})
        entry = record._confirm_from_portal("T-1", {kettle.id: "2"})
        lines = json.loads(entry.payload_attachment_ids.raw)["lines"]
        self.assertEqual(
            [(line["move_id"], line["ordered"], line["shipped"]) for line in lines],
            [(kettle.id, "2.0", "2")],
        )
