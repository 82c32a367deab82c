import json

from odoo.tests import tagged

from .common_flow import ShopOrderFlowCase


@tagged("post_install", "-at_install")
class TestWriteBackSupport(ShopOrderFlowCase):
    """File-based shops (Yatego, generic) only deliver orders: nothing is written back to them."""

    def setUp(self):
        super().setUp()
        self._use_fake_adapter()
        self.Job = self.env["shop.sync.job"]
        self.file_shop = self._create_backend(name="Yatego shop", backend_type="yatego")

    def test_stock_update_goes_only_to_shops_that_take_it(self):
        product = self._create_storable(qty=10, default_code="MUG-WB1")
        product.shop_stock_threshold = 5
        order = self._create_shop_order(product, "paypal", qty=7)
        order._shop_start_processing()
        jobs = self.Job.search([("kind", "=", "push_stock"), ("product_id", "=", product.id)])
        self.assertEqual(jobs.backend_id, self.shop, "the Shopify shop only, not the Yatego one")
        self.assertEqual(json.loads(jobs.payload)["quantity"], 3)
        self.assertFalse(self.Job._queue_stock(self.file_shop, product, 3))

    def test_listing_a_product_in_a_file_shop_only_queues_nothing(self):
        product = self._create_storable(qty=10, default_code="MUG-WB2")
        product.write({"shop_stock_threshold": 5, "shop_backend_ids": [(6, 0, self.file_shop.ids)]})
        self._create_shop_order(product, "paypal", qty=7)._shop_start_processing()
        self.assertFalse(self.Job.search([("product_id", "=", product.id)]))

    def test_shipment_of_a_file_shop_order_queues_no_job(self):
        product = self._create_storable(qty=5, default_code="MUG-WB3")
        order = self._create_shop_order(
            product, "paypal", qty=1, shop_backend_id=self.file_shop.id, shop_external_ref="Y-1"
        )
        order._shop_start_processing()
        self._ship(order.picking_ids)
        self.assertEqual(order.picking_ids.state, "done")
        self.assertFalse(self.Job.search([("sale_order_id", "=", order.id)]))
        self._run_cron("shop_connector.ir_cron_run_sync_jobs")
        self.assertEqual(self.adapter.calls, [], "no failed write-back, no to-do for anyone")
