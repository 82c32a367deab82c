import copy
import json
from pathlib import Path
from unittest.mock import patch

from odoo import Command
from odoo.tests import TransactionCase

from ..adapters.shops.base import map_each
from ..adapters.shops.shopify import map_shopify_order
from ..services.orders import OrderPage

DATA = Path(__file__).parent / "data"
REMATCH = "shop_connector.ir_cron_rematch_open_payments"


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

    def _hide_stored_meanwhile(self, record):
        """Hide ``record`` from the store's read of the stored orders, as when another
        transaction (a push) committed it after this one began: storing the same order
        then hits the unique key. Return the started patcher (stopped at cleanup)."""
        imports_class = type(self.env["shop.order.import"])
        read = imports_class._shop_stored_imports

        def read_before_the_push(imports, backend, external_ids):
            stored = read(imports, backend, external_ids)
            stored.pop(record.external_id, None)
            return stored

        patcher = patch.object(imports_class, "_shop_stored_imports", read_before_the_push)
        patcher.start()
        self.addCleanup(patcher.stop)
        return patcher


class ShopRematchMixin:
    """Shared set-up of the payment re-match tests, mixed in before ``ShopPaymentCase``
    and ``ShopConnectorCase``: the re-match cron, the product of the orders that wait
    for their payment, the bank account's auto-confirmation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref(REMATCH)
        cls.product = cls._create_product(
            name="Rose", list_price=40.0, invoice_policy="order", taxes_id=[Command.clear()]
        )

    @classmethod
    def _auto_confirm_sure_matches(cls, **account_vals):
        """The bank account confirms matches scoring 80 or more by itself (and takes
        ``account_vals``)."""
        cls.bank_account.write({"auto_confirm": True, "auto_confirm_threshold": 80, **account_vals})

    def _waiting_order(self, shop_ref, **overrides):
        """A prepaid order of the shop (one product) that waits for its payment."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "shop_external_ref": shop_ref,
                "shop_payment_method": "prepayment",
                "order_line": [Command.create({"product_id": self.product.id})],
                **overrides,
            }
        )
        order.shop_release_state = "waiting_payment"
        return order
