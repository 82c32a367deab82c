"""Order processing on several Odoo workers: lanes of the processing cron.

Odoo runs one scheduled action on one worker at a time (its ``ir.cron`` row is locked
while it runs). A merchant with several workers activates the shipped second lane or
duplicates the action; every lane runs ``_cron_process`` on the same queue, and the
orders are shared by row locks (the race itself: ``benchmarks/order_import.py
--workers 2`` and the work-unit mixin's tests).
"""

from odoo.tests import tagged

from .common import ShopConnectorCase, clean_shopify_payload

LANE_1 = "shop_connector.ir_cron_process"
LANE_2 = "shop_connector.ir_cron_process_lane_2"


@tagged("post_install", "-at_install")
class TestOrderLanes(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()
        cls.products = cls._create_sample_products()
        cls.Trigger = cls.env["ir.cron.trigger"].sudo()
        cls.Trigger.search([]).unlink()

    def _triggered(self, cron):
        return self.Trigger.search_count([("cron_id", "=", cron.id)])

    def test_second_lane_is_shipped_inactive_with_the_same_job(self):
        lane_1, lane_2 = self.env.ref(LANE_1), self.env.ref(LANE_2)
        self.assertTrue(lane_1.active)
        self.assertFalse(lane_2.active, "one worker needs one lane")
        self.assertEqual(lane_2.code, lane_1.code)
        self.assertEqual(lane_2.model_id, lane_1.model_id)

    def test_a_trigger_wakes_every_active_lane_and_a_copy(self):
        lane_1, lane_2 = self.env.ref(LANE_1), self.env.ref(LANE_2)
        copy = lane_1.copy({"name": "Lane 3", "active": True})
        inactive = lane_1.copy({"name": "Lane 4", "active": False})
        other = self.env.ref("shop_connector.ir_cron_import")
        self.env["shop.order.import"]._shop_trigger_processing()
        self.assertEqual(self._triggered(lane_1), 1)
        self.assertEqual(self._triggered(copy), 1, "a duplicated action is a lane too")
        self.assertEqual(self._triggered(lane_2), 0, "not active")
        self.assertEqual(self._triggered(inactive), 0)
        self.assertEqual(self._triggered(other), 0, "the fetch is not a lane")
        lane_2.active = True
        self.env["shop.order.import"]._shop_trigger_processing()
        self.assertEqual(self._triggered(lane_2), 1)

    def test_sync_now_wakes_the_second_lane(self):
        lane_2 = self.env.ref(LANE_2)
        lane_2.active = True
        self.backend.action_sync_now()
        self.assertEqual(self._triggered(lane_2), 1)

    def test_fetched_orders_wake_the_lanes_at_once_an_empty_fetch_does_not(self):
        lane_1, lane_2 = self.env.ref(LANE_1), self.env.ref(LANE_2)
        lane_2.active = True
        self._import(self.backend, [([], None)])
        self.assertEqual((self._triggered(lane_1), self._triggered(lane_2)), (0, 0))
        pages = [([clean_shopify_payload(id=9300, name="#9300")], "c1")]
        pages.append(([clean_shopify_payload(id=9301, name="#9301")], None))
        self._import(self.backend, pages)
        self.assertEqual((self._triggered(lane_1), self._triggered(lane_2)), (1, 1), "once")

    def test_a_backlog_wakes_the_other_lanes_a_short_queue_does_not(self):
        lane_2 = self.env.ref(LANE_2)
        lane_2.active = True
        payloads = [clean_shopify_payload(id=9100 + n, name=f"#91{n:02d}") for n in range(2)]
        self._import(self.backend, [(payloads, None)])
        self.Trigger.search([]).unlink()
        small = self.env.ref(LANE_1).copy(
            {"name": "Lane of one", "code": "model._cron_process(batch_size=1)"}
        )
        with self.enter_registry_test_mode():
            self.assertIs(small.method_direct_trigger(), True)
        self.assertGreaterEqual(self._triggered(lane_2), 1, "two due, one taken: a backlog")
        self.assertEqual(self._imports(self.backend).mapped("state"), ["done", "done"])

        self.Trigger.search([]).unlink()
        self._import(self.backend, [([clean_shopify_payload(id=9200, name="#9200")], None)])
        self.Trigger.search([]).unlink()
        self._process()  # batch of 50, one due
        self.assertEqual(self._triggered(lane_2), 0, "no backlog: the lane that runs is enough")
