from odoo.tests import TransactionCase


class ShopConnectorCase(TransactionCase):
    """Builders for the shop connector tests; no demo data is assumed."""

    @classmethod
    def _create_backend(cls, **overrides):
        vals = {"name": "Test shop", "backend_type": "shopify", **overrides}
        return cls.env["shop.backend"].create(vals)

    @classmethod
    def _create_order_import(cls, backend, **overrides):
        vals = {"backend_id": backend.id, "external_id": "1001", "payload": "{}", **overrides}
        return cls.env["shop.order.import"].create(vals)
