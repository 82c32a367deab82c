import json
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail_crm_shop.services.errors import PermanentError, TransientError

from .common_flow import ShopOrderFlowCase

CRON = "shop_connector.ir_cron_run_sync_jobs"


@tagged("post_install", "-at_install")
class TestSyncJobs(ShopOrderFlowCase):
    def setUp(self):
        super().setUp()
        self._use_fake_adapter()
        self.Job = self.env["shop.sync.job"]

    def _stock_jobs(self, product):
        return self.Job.search([("kind", "=", "push_stock"), ("product_id", "=", product.id)])

    def test_sale_crossing_the_threshold_queues_and_pushes_the_stock(self):
        product = self._create_storable(qty=10, default_code="MUG-9")
        product.shop_stock_threshold = 5
        small = self._create_shop_order(product, "paypal", qty=3)
        small._shop_start_processing()
        self.assertFalse(self._stock_jobs(product), "7 left: above the threshold")

        order = self._create_shop_order(product, "paypal", qty=4, shop_external_ref="1002")
        order._shop_start_processing()
        job = self._stock_jobs(product)
        self.assertEqual(len(job), 1)
        self.assertEqual(job.backend_id, self.shop)
        self.assertEqual(json.loads(job.payload), {"sku": "MUG-9", "quantity": 3})

        self._run_cron(CRON)
        self.assertEqual(job.state, "done")
        self.assertEqual(self.adapter.calls, [("push_stock", "MUG-9", 3)])

        product.product_tmpl_id._shop_check_stock_threshold()
        self.assertEqual(len(self._stock_jobs(product)), 1, "the same quantity is not resent")

        sold_out = self._create_shop_order(product, "paypal", qty=3, shop_external_ref="1003")
        sold_out._shop_start_processing()
        latest = self._stock_jobs(product)[0]
        self.assertEqual(json.loads(latest.payload)["quantity"], 0, "zero when sold out")
        self._run_cron(CRON)

        self.env["stock.quant"]._update_available_quantity(product, self.warehouse.lot_stock_id, 20)
        product.product_tmpl_id._shop_check_stock_threshold()
        restocked = self._stock_jobs(product)[0]
        self.assertEqual(json.loads(restocked.payload)["quantity"], 20, "back above: sent once")
        self._run_cron(CRON)
        self.env["stock.quant"]._update_available_quantity(product, self.warehouse.lot_stock_id, 5)
        product.product_tmpl_id._shop_check_stock_threshold()
        self.assertEqual(self._stock_jobs(product)[0], restocked, "above the threshold: quiet")

    def test_open_stock_update_is_refreshed_not_duplicated(self):
        product = self._create_storable(qty=2, default_code="MUG-2")
        first = self.Job._queue_stock(self.shop, product, 2)
        second = self.Job._queue_stock(self.shop, product, 1)
        self.assertEqual(first, second)
        self.assertEqual(json.loads(first.payload)["quantity"], 1)

    def test_transient_failure_is_retried_later(self):
        product = self._create_storable(qty=2, default_code="MUG-3")
        job = self.Job._queue_stock(self.shop, product, 2)
        self.adapter.fail_with = TransientError("shop is down")
        self._run_cron(CRON)
        self.assertEqual(job.state, "error")
        self.assertEqual(job.attempt_count, 1)
        self.assertIn("shop is down", job.last_error)
        self.assertGreater(job.next_attempt_date, fields.Datetime.now())

        self.adapter.fail_with = None
        self._run_cron(CRON)
        self.assertEqual(job.state, "error", "not due yet: left alone")
        self.assertFalse(self.adapter.calls)
        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):
            self._run_cron(CRON)
        self.assertEqual(job.state, "done")
        self.assertFalse(job.last_error)
        self.assertEqual(self.adapter.calls, [("push_stock", "MUG-3", 2)])

    def test_permanent_failure_needs_a_person_then_retry_succeeds(self):
        product = self._create_storable(qty=2, default_code="MUG-4")
        job = self.Job._queue_stock(self.shop, product, 2)
        self.adapter.fail_with = PermanentError("unknown SKU")
        self._run_cron(CRON)
        self.assertEqual(job.state, "failed")
        self.assertTrue(job.activity_ids)
        self.assertTrue(job.message_ids.filtered(lambda m: "unknown SKU" in m.body))
        failed = self.Job.search([("state", "=", "failed"), ("id", "=", job.id)])
        self.assertEqual(failed, job)

        self.adapter.fail_with = None
        job.action_retry()
        self.assertEqual(job.state, "pending")
        self.assertFalse(job.activity_ids)
        self._run_cron(CRON)
        self.assertEqual(job.state, "done")

    def test_delivery_done_confirms_the_shipment_once(self):
        product = self._create_storable(qty=5, default_code="MUG-5")
        carrier_product = self.env["product.product"].create({"name": "Parcel", "type": "service"})
        carrier = self.env["delivery.carrier"].create(
            {"name": "DHL Paket", "product_id": carrier_product.id}
        )
        order = self._create_shop_order(
            product, "paypal", qty=2, shop_external_ref="4711", carrier_id=carrier.id
        )
        order._shop_start_processing()
        picking = order.picking_ids
        self.assertEqual(picking.carrier_id, carrier)
        self._ship(picking, tracking_ref="00340434")
        job = self.Job.search([("kind", "=", "confirm_shipment"), ("sale_order_id", "=", order.id)])
        self.assertEqual(len(job), 1)
        self.assertEqual(job.external_ref, f"4711/{picking.name}")
        self.assertEqual(self.Job._queue_shipment(picking), job, "queued once")

        self._run_cron(CRON)
        self.assertEqual(job.state, "done")
        self.assertEqual(
            self.adapter.calls, [("confirm_shipment", "4711", "DHL Paket", "00340434", ())]
        )
        self._run_cron(CRON)
        self.assertEqual(len(self.adapter.calls), 1, "a done job is not sent again")

    def test_dashboard_counts_per_backend(self):
        product = self._create_storable(qty=5, default_code="MUG-6")
        self._create_shop_order(product, "prepayment")._shop_start_processing()
        self._create_shop_order(
            product, "bitcoin", shop_external_ref="1002"
        )._shop_start_processing()
        job = self.Job._queue_stock(self.shop, product, 1)
        job.write({"state": "failed"})
        self.assertEqual(self.shop.dashboard_waiting_payment, 1)
        self.assertEqual(self.shop.dashboard_exception, 1)
        self.assertEqual(self.shop.dashboard_sync_errors, 1)
        action = self.shop.action_dashboard_waiting_payment()
        self.assertEqual(self.env["sale.order"].search_count(action["domain"]), 1)

    def test_dashboard_sync_now_schedules_import_and_write_backs(self):
        cron = self.env.ref(CRON)
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertTrue(self.shop.action_dashboard_sync_now())
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1
        )
        self.assertTrue(self.shop.next_sync_date, "the import is due at once")
