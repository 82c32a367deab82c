import json
import logging
from unittest.mock import patch

from psycopg2.errors import UniqueViolation

from odoo.tests import tagged

from ..adapters.shops.shopify import map_shopify_order
from .common import ShopConnectorCase, clean_shopify_payload

IMPORT_LOGGER = "odoo.addons.shop_connector.models.shop_order_import"
LATER = "2024-07-06T12:00:00+02:00"


@tagged("post_install", "-at_install")
class TestPushCronRace(ShopConnectorCase):
    """The shop pushes an order while the scheduled import stores the same order: the
    unique key keeps one row, and the import takes the pushed one as stored."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()
        cls.products = cls._create_sample_products()
        cls.first = clean_shopify_payload()
        cls.second = clean_shopify_payload(id=5531234567891, name="#1043")
        cls.third = clean_shopify_payload(id=5531234567892, name="#1044")

    def _push_meanwhile(self, payload):
        """Store ``payload`` through the push and hide it from the import's read of the
        stored orders: as when the push commits after the import's transaction began
        (the import's insert then hits the unique key)."""
        result = self.backend._shop_store_pushed_orders([map_shopify_order(payload)])
        self.assertEqual(result["stored"], 1)
        pushed = self._imports(self.backend).filtered(
            lambda record: record.external_id == str(payload["id"])
        )
        self.assertTrue(pushed)
        return pushed, self._hide_stored_meanwhile(pushed)

    def test_order_pushed_while_the_import_stores_it_is_kept_once(self):
        pushed, patcher = self._push_meanwhile(self.second)
        pushed_payload = pushed.payload
        page = [([self.first, self.second, self.third], "c1")]
        # logging.INFO, not "INFO": Odoo gives that name to its level 25
        with self.assertLogs(IMPORT_LOGGER, logging.INFO) as logs:
            self._import(self.backend, page)
        self.assertIn(f"Order {pushed.external_id} of shop", "\n".join(logs.output))
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self.assertFalse(self.backend.last_error)
        self.assertTrue(self.backend.last_sync_date)
        self.assertEqual(self.backend.sync_cursor, "c1", "the page counts as stored")
        imports = self._imports(self.backend)
        self.assertEqual(
            sorted(imports.mapped("external_id")),
            sorted(str(p["id"]) for p in (self.first, self.second, self.third)),
            "one import per order: the pushed one and the two others of the page",
        )
        self.assertIn(pushed, imports)
        self.assertEqual(pushed.payload, pushed_payload, "the pushed row is left as it is")
        self.assertEqual(set(imports.mapped("state")), {"pending"})
        self._process()
        self.assertEqual(set(imports.mapped("state")), {"done"}, imports.mapped("last_error"))
        self.assertEqual(len(imports.sale_order_id), 3)

        # the next import sees the pushed row again: a later change updates it
        patcher.stop()
        changed = dict(self.second, updated_at=LATER, note="Bitte klingeln")
        self._import(self.backend, [([changed], "c2")])
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self.assertEqual(self.backend.sync_cursor, "c2")
        self.assertEqual(len(self._imports(self.backend)), 3)
        self.assertEqual(pushed.state, "pending", "the change is processed again")
        self.assertEqual(json.loads(pushed.payload)["note"], "Bitte klingeln")

    def test_another_error_while_storing_still_fails_the_import(self):
        imports_class = type(self.env["shop.order.import"])
        create = imports_class.create
        second_id = str(self.second["id"])
        page = [([self.first, self.second, self.third], "c1")]
        errors = [
            UniqueViolation('duplicate key value violates unique constraint "other_key"'),
            ValueError("disk full"),
        ]
        for error in errors:
            with self.subTest(error=error):

                def create_failing(imports, vals_list, error=error):
                    rows = [vals_list] if isinstance(vals_list, dict) else vals_list
                    if any(vals.get("external_id") == second_id for vals in rows):
                        raise error
                    return create(imports, vals_list)

                with patch.object(imports_class, "create", create_failing):
                    self._import(self.backend, page)
                self.assertEqual(self.backend.state, "error")
                self.assertIn(str(error), self.backend.last_error)
                self.assertFalse(self.backend.sync_cursor, "the cursor stays before the page")
                self.assertFalse(self._imports(self.backend), "nothing of the page is kept")
        # fixed: the next run stores the page
        adapter = self._import(self.backend, page)
        self.assertEqual(adapter.cursors, [None])
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self.assertEqual(self.backend.sync_cursor, "c1")
        self.assertEqual(len(self._imports(self.backend)), 3)
