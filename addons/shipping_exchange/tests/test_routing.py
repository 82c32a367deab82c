from unittest.mock import patch

from odoo.tests import tagged

from .common import ShippingExchangeCase


@tagged("post_install", "-at_install")
class TestRouting(ShippingExchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parcel = cls._create_profile(name="Parcel carrier")
        cls.freight = cls._create_profile(name="Freight", manual_release=True)
        cls.parcel_rule = cls._create_rule(
            name="Small parcels",
            sequence=1,
            profile_id=cls.parcel.id,
            max_weight=10,
            country_ids=[(6, 0, cls.germany.ids)],
        )
        cls.freight_rule = cls._create_rule(
            name="Bulky goods",
            sequence=2,
            profile_id=cls.freight.id,
            packstation_allowed=False,
        )
        cls.bulky = cls._create_product(name="Wardrobe", default_code="BULKY", weight=80)

    def test_first_matching_rule_gives_the_profile(self):
        picking = self._create_ready_picking()
        record = picking.shipping_exchange_record_ids
        self.assertEqual(record.profile_id, self.parcel)
        self.assertEqual(record.state, "pending")
        self.assertFalse(picking.shipping_exchange_held)

    def test_heavy_delivery_goes_to_the_next_rule_and_waits_for_release(self):
        picking = self._create_ready_picking(products=self.bulky, qty=1)
        record = picking.shipping_exchange_record_ids
        self.assertEqual(record.profile_id, self.freight)
        self.assertEqual(record.state, "to_release")
        record.action_release()
        self.assertEqual(record.state, "pending")

    def test_packstation_and_bulky_is_held_as_a_case(self):
        station = self._create_partner(street="Packstation 123", street2="12345678")
        picking = self._create_ready_picking(products=self.bulky, qty=1, partner_id=station.id)
        self.assertFalse(picking.shipping_exchange_record_ids)
        self.assertTrue(picking.shipping_exchange_held)
        self.assertIn("Packstation", picking.shipping_exchange_hold_reason)
        self.assertIn("weight", picking.shipping_exchange_hold_reason)
        case = picking.shipping_exchange_case_id
        self.assertTrue(case)
        self.assertIn(picking.name, case.name)
        self.assertEqual(case.partner_id, station)
        # the cron does not route a held delivery again
        self._run_cron("ir_cron_route")
        self.assertFalse(picking.shipping_exchange_record_ids)
        # the customer gives a street address: routed again, to the parcel carrier? no - bulky
        station.write({"street": "Heidestraße 17", "street2": False})
        picking.action_shipping_exchange_release_hold()
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.freight)
        self.assertFalse(picking.shipping_exchange_held)

    def test_cron_routes_deliveries_that_were_ready_before_the_rules(self):
        (self.parcel_rule | self.freight_rule).action_archive()
        picking = self._create_picking()
        picking.action_confirm()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(picking.shipping_exchange_record_ids)
        (self.parcel_rule | self.freight_rule).action_unarchive()
        self._run_cron("ir_cron_route")
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.parcel)
        self._run_cron("ir_cron_route")
        self.assertEqual(len(picking.shipping_exchange_record_ids), 1)

    def test_a_delivery_whose_routing_crashes_is_held_and_the_others_go_on(self):
        (self.parcel_rule | self.freight_rule).action_archive()
        broken, fine = self._create_picking(), self._create_picking()
        (broken | fine).action_confirm()
        (self.parcel_rule | self.freight_rule).action_unarchive()
        Picking = type(self.env["stock.picking"])
        original = Picking._shipping_exchange_route

        def route(pickings):
            if broken in pickings:
                raise ValueError("weight cannot be read")
            return original(pickings)

        logger = "odoo.addons.shipping_exchange.models.stock_picking"
        with (
            patch.object(Picking, "_shipping_exchange_route", route),
            self.assertLogs(logger, "WARNING"),
        ):
            self._run_cron("ir_cron_route")
        self.assertTrue(broken.shipping_exchange_held)
        self.assertIn("weight cannot be read", broken.shipping_exchange_hold_reason)
        self.assertTrue(broken.shipping_exchange_case_id)
        self.assertFalse(broken.shipping_exchange_record_ids)
        self.assertEqual(fine.shipping_exchange_record_ids.profile_id, self.parcel)

    def test_no_rules_means_no_exchange(self):
        (self.parcel_rule | self.freight_rule).action_archive()
        picking = self._create_ready_picking()
        self.assertFalse(picking.shipping_exchange_record_ids)
        self.assertFalse(picking.shipping_exchange_held)

    def test_long_parcel_goes_to_the_rule_that_takes_it(self):
        self.parcel_rule.max_length = 120
        rod = self._create_product(name="Curtain rod", default_code="ROD", weight=2)
        rod.shipping_length_cm = 150
        picking = self._create_ready_picking(products=rod, qty=1)
        self.assertEqual(picking.shipping_exchange_record_ids.profile_id, self.freight)
        short = self._create_ready_picking()
        self.assertEqual(short.shipping_exchange_record_ids.profile_id, self.parcel)

    def test_order_value_and_shop_conditions(self):
        shop = self.env["crm.team"].create({"name": "Online shop"})
        self.parcel_rule.write({"team_ids": [(6, 0, shop.ids)], "min_amount": 100})
        order = self.env["sale.order"].create(
            {
                "partner_id": self._create_partner().id,
                "team_id": shop.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1, "price_unit": 50})
                ],
            }
        )
        order.action_confirm()
        order.picking_ids.action_assign()
        # below the minimum value: the bulky-goods rule (second) takes it
        self.assertEqual(order.picking_ids.shipping_exchange_record_ids.profile_id, self.freight)
        order2 = order.copy({"team_id": shop.id})
        order2.order_line.price_unit = 150
        order2.action_confirm()
        order2.picking_ids.action_assign()
        self.assertEqual(order2.picking_ids.shipping_exchange_record_ids.profile_id, self.parcel)
