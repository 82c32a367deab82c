from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail_crm_shop.services.errors import TransientError

from ..adapters.shops.gambio import GambioAdapter
from ..adapters.shops.shopify import ShopifyAdapter
from .common import FakeShopAdapter, ShopConnectorCase, clean_shopify_payload, shopify_payload

LATER = "2024-07-02T09:00:00+02:00"


@tagged("post_install", "-at_install")
class TestOrderImport(ShopConnectorCase):
    def test_same_external_order_cannot_be_stored_twice(self):
        backend = self._create_backend()
        self._create_order_import(backend)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._create_order_import(backend)

    def test_same_external_id_on_two_backends_is_two_orders(self):
        first, second = self._create_backend(), self._create_backend(name="Other shop")
        self._create_order_import(first)
        self._create_order_import(second)
        self.assertEqual(first.order_import_count + second.order_import_count, 2)

    def test_retry_puts_failed_import_back_in_the_queue(self):
        record = self._create_order_import(
            self._create_backend(), state="failed", attempt_count=5, last_error="boom"
        )
        record.action_retry()
        self.assertEqual(record.state, "pending")
        done = self._create_order_import(record.backend_id, external_id="2", state="done")
        done.action_retry()
        self.assertEqual(done.state, "done")

    def test_adapter_is_built_from_the_backend(self):
        backend = self._create_backend(
            api_url="https://example.myshopify.com",
            api_secret="token",
            import_since_date="2024-07-01",
        )
        adapter = backend._get_shop_adapter()
        self.assertIsInstance(adapter, ShopifyAdapter)
        self.assertEqual(adapter.settings.access_token, "token")
        self.assertEqual(adapter.settings.import_since.isoformat(), "2024-07-01T00:00:00+00:00")
        amazon = self._create_backend(
            backend_type="amazon",
            api_url="https://sellingpartnerapi-eu.amazon.com",
            amazon_marketplace_ids="A1PA6795UKMFR9, A13V1IB3VIYZZH",
        )
        self.assertEqual(
            amazon._get_shop_adapter().settings.marketplace_ids,
            ("A1PA6795UKMFR9", "A13V1IB3VIYZZH"),
        )
        with self.assertRaises(UserError):
            self._create_backend(backend_type="shopify")._get_shop_adapter()
        gambio = self._create_backend(
            backend_type="gambio", api_url="https://shop.example.de", gambio_shipped_status_id=14
        )
        gambio_adapter = gambio._get_shop_adapter()
        self.assertIsInstance(gambio_adapter, GambioAdapter)
        self.assertEqual(gambio_adapter.settings.shipped_status_id, 14)
        self.assertTrue(callable(gambio_adapter.confirm_shipment), "write-back jobs can run")
        yatego = self._create_backend(backend_type="yatego", api_url="https://x")
        yatego.csv_column_map_ids = False  # no column mapping: cannot be scheduled
        with self.assertRaises(UserError):
            yatego._get_shop_adapter()

    def test_shop_user_retries_imports_but_never_sees_credentials(self):
        backend = self._create_backend(api_secret="s3cret")
        record = self._create_order_import(backend, state="failed", last_error="boom")
        user = new_test_user(self.env, login="shop_user", groups="shop_connector.group_user")
        with self.assertRaises(AccessError):
            backend.with_user(user).read(["api_secret"])
        record.with_user(user).action_retry()
        self.assertEqual(record.state, "pending")
        self.assertEqual(backend.with_user(user).name, "Test shop")


@tagged("post_install", "-at_install")
class TestOrderImportCron(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()
        cls.products = cls._create_sample_products()

    def _sale_orders(self):
        return self.env["sale.order"].search([("shop_backend_id", "=", self.backend.id)])

    def test_same_page_twice_gives_one_sale_order(self):
        page = [([clean_shopify_payload()], "c1")]
        self._import(self.backend, page)
        self._process()
        record = self._imports(self.backend)
        self.assertEqual(record.state, "done")
        self.assertEqual(record.sale_order_id.shop_external_ref, "#1042")
        self._import(self.backend, page)
        self.assertEqual(record.state, "done", "an unchanged order is not processed again")
        self._process()
        self.assertEqual(len(self._imports(self.backend)), 1)
        self.assertEqual(len(self._sale_orders()), 1)
        self.assertEqual(self.backend.state, "ok")
        self.assertTrue(self.backend.last_sync_date)

    def test_older_payload_does_not_overwrite_a_newer_one(self):
        self._import(self.backend, [([clean_shopify_payload(updated_at=LATER)], None)])
        record = self._imports(self.backend)
        self._import(self.backend, [([clean_shopify_payload(note="old")], None)])
        self.assertNotIn('"old"', record.payload)

    def test_changed_order_updates_the_quotation(self):
        # the customer's note holds the order: it stays a quotation
        self._import(self.backend, [([shopify_payload()], None)])
        self._process()
        sale_order = self._sale_orders()
        self.assertEqual(sale_order.state, "draft")
        items = shopify_payload()["line_items"]
        items[1]["quantity"] = 3
        self._import(self.backend, [([shopify_payload(updated_at=LATER, line_items=items)], None)])
        record = self._imports(self.backend)
        self.assertEqual(record.state, "pending", "a changed order is processed again")
        self._process()
        self.assertEqual(record.state, "done")
        self.assertEqual(self._sale_orders(), sale_order, "the same quotation is updated")
        mug = sale_order.order_line.filtered(lambda line: line.product_id == self.products[1])
        self.assertEqual(mug.product_uom_qty, 3)
        self.assertEqual(len(sale_order.order_line.filtered("product_id")), 4)

    def test_change_after_confirmation_opens_a_case(self):
        self._import(self.backend, [([shopify_payload()], None)])
        self._process()
        sale_order = self._sale_orders()
        sale_order.action_confirm()
        self._import(self.backend, [([shopify_payload(updated_at=LATER, total_price="70")], None)])
        self._process()
        self.assertEqual(sale_order.state, "sale")
        case = self.env["crm.shop.case"].search(
            [("sale_order_id", "=", sale_order.id), ("shop_exception_code", "=", "order_changed")]
        )
        self.assertEqual(len(case), 1)
        self.assertEqual(case.priority, "1")

    def test_order_cancelled_before_shipping_cancels_the_sale_order(self):
        self._import(self.backend, [([shopify_payload()], None)])
        self._process()
        sale_order = self._sale_orders()
        cancelled = shopify_payload(updated_at=LATER, cancelled_at=LATER)
        self._import(self.backend, [([cancelled], None)])
        self._process()
        self.assertEqual(sale_order.state, "cancel")
        self.assertEqual(self._imports(self.backend).state, "done")

    def test_order_cancelled_after_shipping_opens_a_case(self):
        self._import(self.backend, [([shopify_payload()], None)])
        self._process()
        sale_order = self._sale_orders()
        sale_order.action_confirm()
        picking = sale_order.picking_ids
        self.assertTrue(picking)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking._action_done()
        self.assertEqual(picking.state, "done")
        cancelled = shopify_payload(updated_at=LATER, cancelled_at=LATER)
        self._import(self.backend, [([cancelled], None)])
        self._process()
        self.assertEqual(sale_order.state, "sale", "shipped goods are not cancelled silently")
        case = (
            self.env["crm.shop.case"]
            .search([("sale_order_id", "=", sale_order.id), ("shop_exception_code", "!=", False)])
            .filtered(lambda c: c.shop_exception_code == "cancelled_after_shipping")
        )
        self.assertEqual(len(case), 1)

    def test_order_cancelled_before_import_creates_nothing(self):
        self._import(self.backend, [([shopify_payload(cancelled_at=LATER)], None)])
        self._process()
        self.assertEqual(self._imports(self.backend).state, "done")
        self.assertFalse(self._sale_orders())

    def test_unmapped_payload_is_kept_as_failed_then_imported_when_fixed(self):
        broken = clean_shopify_payload(created_at=None)
        self._import(self.backend, [([broken], "c1")])
        record = self._imports(self.backend)
        self.assertEqual(record.state, "failed")
        self.assertIn("created_at", record.last_error)
        self.assertIn("5531234567890", record.payload)
        self.assertEqual(self.backend.sync_cursor, "c1", "the page is stored, the cursor moves")
        self.assertTrue(record.activity_ids, "a person is told")
        # the shop sends the corrected order: processed like any change
        self._import(self.backend, [([clean_shopify_payload(updated_at=LATER)], "c2")])
        self.assertEqual(record.state, "pending")
        self._process()
        self.assertEqual(record.state, "done")
        self.assertTrue(record.sale_order_id)

    def test_failed_processing_is_recorded_and_retry_succeeds_after_the_fix(self):
        chf = self.env.ref("base.CHF")
        chf.active = True
        self.backend.pricelist_id = self._create_eur_pricelist(name="CHF", currency_id=chf.id)
        self._import(self.backend, [([clean_shopify_payload()], None)])
        self._process()
        record = self._imports(self.backend)
        self.assertEqual(record.state, "failed")
        self.assertIn("EUR", record.last_error)
        self.assertFalse(self._sale_orders(), "nothing half-created")
        self.assertTrue(record.message_ids.filtered(lambda m: "could not be imported" in m.body))
        self.backend.pricelist_id = self._create_eur_pricelist()
        record.action_retry()
        self._process()
        self.assertEqual(record.state, "done")
        self.assertEqual(record.sale_order_id.currency_id, self.eur)
        self.assertFalse(record.activity_ids)

    def test_cursor_moves_only_with_stored_pages(self):
        first = clean_shopify_payload()
        second = clean_shopify_payload(id=5531234567891, name="#1043")
        self._import(self.backend, [([first], "c1")], error=TransientError("host down"))
        self.assertEqual(self.backend.sync_cursor, "c1")
        self.assertEqual(self.backend.state, "error")
        self.assertIn("host down", self.backend.last_error)
        self.assertEqual(len(self._imports(self.backend)), 1, "the stored page is kept")
        adapter = self._import(self.backend, [([second], "c2")])
        self.assertEqual(adapter.cursors, ["c1"], "the next run resumes after the stored page")
        self.assertEqual(self.backend.sync_cursor, "c2")
        self.assertEqual(self.backend.state, "ok")
        self.assertFalse(self.backend.last_error)
        self.assertEqual(len(self._imports(self.backend)), 2)

    def test_backend_down_keeps_the_cursor_and_the_next_run_resumes(self):
        self.backend.sync_cursor = "c0"
        self._import(self.backend, [], error=TransientError("503 after 3 retries"))
        self.assertEqual(self.backend.sync_cursor, "c0")
        self.assertEqual(self.backend.state, "error")
        self.assertFalse(self._imports(self.backend))
        adapter = self._import(self.backend, [([clean_shopify_payload()], "c1")])
        self.assertEqual(adapter.cursors, ["c0"])
        self.assertEqual(self.backend.sync_cursor, "c1")
        self.assertEqual(self.backend.state, "ok")

    def test_connection_test_fetches_without_storing(self):
        self._patch_adapter(FakeShopAdapter([([clean_shopify_payload()], "c1")]))
        action = self.backend.action_test_connection()
        self.assertIn("1", action["params"]["message"])
        self.assertFalse(self._imports(self.backend))
        self.assertFalse(self.backend.sync_cursor)

    def test_connection_test_reports_errors(self):
        self._patch_adapter(FakeShopAdapter([], error=TransientError("401 Unauthorized")))
        with self.assertRaisesRegex(UserError, "401 Unauthorized"):
            self.backend.action_test_connection()

    def test_sync_now_makes_the_backend_due_and_triggers_the_crons(self):
        self.backend.next_sync_date = "2099-01-01 00:00:00"
        self.backend.action_sync_now()
        self.assertLessEqual(self.backend.next_sync_date, fields.Datetime.now())
        for xmlid in ("shop_connector.ir_cron_import", "shop_connector.ir_cron_process"):
            cron = self.env.ref(xmlid)
            triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
            self.assertTrue(triggers, xmlid)
