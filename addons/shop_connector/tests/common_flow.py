from unittest.mock import patch

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import ShopConnectorCase


class FakeWriteBackAdapter:
    """Stands in for a shop adapter: records the write-backs, fails on request."""

    def __init__(self):
        self.calls = []
        self.fail_with = None

    def _record(self, *call):
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(call)

    def confirm_shipment(self, external_id, carrier, tracking_ref, lines=()):
        self._record("confirm_shipment", external_id, carrier, tracking_ref, tuple(lines))

    def push_stock(self, sku, quantity):
        self._record("push_stock", sku, quantity)


class ShopOrderFlowCase(AccountTestInvoicingCommon, ShopConnectorCase):
    """Shop orders from release to invoice, on a company with a chart of accounts."""

    @classmethod
    def get_default_groups(cls):
        return (
            super().get_default_groups()
            | cls.env.ref("shop_connector.group_manager")
            | cls.env.ref("stock.group_stock_manager")
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls._create_backend(name="Flow shop")
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Erika Mustermann", "email": "erika@example.com", "lang": "en_US"}
        )
        cls.adapter = FakeWriteBackAdapter()

    @classmethod
    def _create_storable(cls, qty=10, **overrides):
        vals = {
            "name": "Mug",
            "type": "consu",
            "is_storable": True,
            "default_code": "MUG-1",
            "list_price": 10.0,
            "invoice_policy": "delivery",
            **overrides,
        }
        product = cls.env["product.product"].create(vals)
        cls.env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, qty)
        return product

    @classmethod
    def _create_shop_order(cls, product, payment_method="paypal", qty=1, **overrides):
        vals = {
            "partner_id": cls.customer.id,
            "shop_backend_id": cls.shop.id,
            "shop_external_ref": "1001",
            "shop_payment_method": payment_method,
            "warehouse_id": cls.warehouse.id,
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": qty})],
            **overrides,
        }
        return cls.env["sale.order"].create(vals)

    def _use_fake_adapter(self):
        """Route ``_get_shop_adapter`` of every backend to ``self.adapter``."""
        self.adapter.calls.clear()
        self.adapter.fail_with = None
        backend_class = type(self.env["shop.backend"])
        patcher = patch.object(
            backend_class, "_get_shop_adapter", lambda backend: self.adapter, create=True
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def _ship(self, picking, tracking_ref="TRACK-1"):
        picking.carrier_tracking_ref = tracking_ref
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
