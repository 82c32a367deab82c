from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from .common import ShippingExchangeCase

LOGGER = "odoo.addons.shipping_exchange.models.stock_picking"


@tagged("post_install", "-at_install")
class TestRoutingAtOnce(ShippingExchangeCase):
    """A delivery is routed the moment it becomes ready, whatever made it ready."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.at_once = cls._create_profile(name="Fulfilment", send_mode="immediate")
        cls.rule = cls._create_rule(name="Everything", profile_id=cls.at_once.id)
        cls.stocked = cls._create_product(name="Kettle", default_code="KETTLE", is_storable=True)
        cls.send_cron = cls.env.ref("shipping_exchange.ir_cron_send")

    def _send_triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.send_cron.id)])

    def test_confirmed_delivery_with_stock_is_routed_and_sent_at_once(self):
        self._put_in_stock(self.stocked, 5)
        triggers = self._send_triggers()
        picking = self._create_picking(products=self.stocked, qty=2)
        picking.action_confirm()  # reserves at confirmation, as a confirmed sale order does
        self.assertEqual(picking.state, "assigned")
        record = picking.shipping_exchange_record_ids
        self.assertEqual(record.profile_id, self.at_once)
        self.assertEqual(record.state, "pending")
        self.assertFalse(record.sent_date)  # nothing is sent inside the user's transaction
        self.assertEqual(self._send_triggers(), triggers + 1)

    def test_sale_order_delivery_is_routed_on_confirmation(self):
        self._put_in_stock(self.stocked, 5)
        order = self.env["sale.order"].create(
            {
                "partner_id": self._create_partner().id,
                "order_line": [(0, 0, {"product_id": self.stocked.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        delivery = self.env["stock.picking"].search([("origin", "=", order.name)])
        self.assertEqual(delivery.state, "assigned")
        self.assertEqual(delivery.shipping_exchange_record_ids.profile_id, self.at_once)

    def test_waiting_delivery_is_routed_when_the_goods_arrive(self):
        picking = self._create_picking(products=self.stocked, qty=2)
        picking.action_confirm()
        self.assertEqual(picking.state, "confirmed")  # nothing in stock: waits
        self.assertFalse(picking.shipping_exchange_record_ids)
        triggers = self._send_triggers()
        self._receive_goods({self.stocked: 2})
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.at_once)
        self.assertEqual(self._send_triggers(), triggers + 1)

    def test_scheduled_profile_waits_for_the_send_run(self):
        scheduled = self._create_profile(name="Parcel carrier", send_mode="schedule")
        self.rule.profile_id = scheduled
        self._put_in_stock(self.stocked, 5)
        triggers = self._send_triggers()
        picking = self._create_picking(products=self.stocked, qty=1)
        picking.action_confirm()
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, scheduled)
        self.assertEqual(self._send_triggers(), triggers)

    def test_one_record_per_delivery_however_often_it_is_reserved(self):
        self._put_in_stock(self.stocked, 5)
        picking = self._create_picking(products=self.stocked, qty=2)
        picking.action_confirm()
        record = picking.shipping_exchange_record_ids
        picking.do_unreserve()
        self.assertEqual(picking.state, "confirmed")
        picking.action_assign()
        picking.move_ids._action_assign()
        self._run_cron("ir_cron_route")
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.shipping_exchange_record_ids, record)

    def test_stock_user_without_exchange_rights_makes_a_delivery_ready(self):
        clerk = new_test_user(self.env, "clerk", groups="stock.group_stock_user")
        self._put_in_stock(self.stocked, 5)
        picking = self._create_picking(products=self.stocked, qty=2)
        picking.with_user(clerk).action_confirm()
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.at_once)

    def test_routing_failure_keeps_the_stock_operation_and_the_cron_routes_later(self):
        self._put_in_stock(self.stocked, 5)
        picking = self._create_picking(products=self.stocked, qty=2)
        Picking = self.registry["stock.picking"]
        with (
            patch.object(Picking, "_shipping_exchange_route", side_effect=ValueError("boom")),
            self.assertLogs(LOGGER, "WARNING") as logs,
        ):
            picking.action_confirm()
        self.assertIn(picking.name, logs.output[0])
        self.assertIn("boom", logs.output[0])
        self.assertEqual(picking.state, "assigned")  # the reservation is kept
        self.assertFalse(picking.shipping_exchange_record_ids)
        self.assertFalse(picking.shipping_exchange_held)
        triggers = self._send_triggers()
        self._run_cron("ir_cron_route")
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.at_once)
        self.assertEqual(self._send_triggers(), triggers + 1)
