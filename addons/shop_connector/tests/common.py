import copy
import json
from pathlib import Path
from unittest.mock import patch

from odoo.tests import TransactionCase

from ..adapters.shops.base import map_each
from ..adapters.shops.shopify import map_shopify_order
from ..services.orders import OrderPage

DATA = Path(__file__).parent / "data"


def shopify_payload(**changes):
    """The documented Shopify sample order (tests/data/shopify_order.json) with ``changes``."""
    payload = json.loads((DATA / "shopify_order.json").read_text(encoding="utf-8"))
    payload.update(copy.deepcopy(changes))
    return payload


def clean_shopify_payload(**changes):
    """The sample without reasons for a person: no note, shipped to the billing address."""
    payload = shopify_payload()
    payload.update(note="", shipping_address=payload["billing_address"])
    payload.update(copy.deepcopy(changes))
    return payload


class FakeShopAdapter:
    """Pages of sample payloads, mapped by the real Shopify mapping; may fail after them."""

    def __init__(self, pages, error=None):
        self.pages = pages  # [(payloads, next_cursor)]
        self.error = error
        self.cursors = []

    def fetch_orders(self, cursor=None):
        self.cursors.append(cursor)
        for payloads, next_cursor in self.pages:
            orders, unmapped = map_each(map_shopify_order, payloads)
            yield OrderPage(orders, next_cursor, unmapped=unmapped)
        if self.error:
            raise self.error


class ShopConnectorCase(TransactionCase):
    """Builders for the shop connector tests; no demo data is assumed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.queue = cls.env["crm.shop.queue"].create({"name": "Order exceptions"})

    @classmethod
    def _create_backend(cls, **overrides):
        vals = {"name": "Test shop", "backend_type": "shopify", **overrides}
        return cls.env["shop.backend"].create(vals)

    @classmethod
    def _create_order_import(cls, backend, **overrides):
        vals = {"backend_id": backend.id, "external_id": "1001", "payload": "{}", **overrides}
        return cls.env["shop.order.import"].create(vals)

    @classmethod
    def _create_eur_pricelist(cls, **overrides):
        vals = {"name": "Shop EUR", "currency_id": cls.eur.id, **overrides}
        return cls.env["product.pricelist"].create(vals)

    @classmethod
    def _create_shopify_backend(cls, **overrides):
        vals = {
            "name": "Shopify DE",
            "api_url": "https://example.myshopify.com",
            "pricelist_id": cls._create_eur_pricelist().id,
            "exception_queue_id": cls.queue.id,
            **overrides,
        }
        return cls._create_backend(**vals)

    @classmethod
    def _create_product(cls, **overrides):
        vals = {"name": "Product", "type": "consu", "list_price": 10.0, **overrides}
        return cls.env["product.product"].create(vals)

    @classmethod
    def _create_sample_products(cls, **overrides):
        """The two products of the Shopify sample order."""
        return cls._create_product(
            name="Bio-T-Shirt", default_code="TS-100-BLK-M", **overrides
        ) | cls._create_product(name="Emaille-Becher", default_code="BECHER-01", **overrides)

    def _patch_adapter(self, adapter):
        backend_class = type(self.env["shop.backend"])
        patcher = patch.object(backend_class, "_get_shop_adapter", lambda backend: adapter)
        patcher.start()
        self.addCleanup(patcher.stop)
        return adapter

    def _run_cron(self, xmlid):
        with self.enter_registry_test_mode():
            result = self.env.ref(xmlid).method_direct_trigger()
        self.assertIs(result, True, "the cron raised")

    def _import(self, backend, pages, error=None):
        """Fetch ``pages`` for ``backend`` through the import cron; return the adapter."""
        adapter = self._patch_adapter(FakeShopAdapter(pages, error))
        backend.next_sync_date = False
        self._run_cron("shop_connector.ir_cron_import")
        return adapter

    def _process(self):
        self._run_cron("shop_connector.ir_cron_process")

    def _imports(self, backend):
        return self.env["shop.order.import"].search([("backend_id", "=", backend.id)])
