import json
import logging

from odoo import api, fields, models

from odoo.addons.mail_crm_shop.services.errors import PermanentError, TransientError

from ..adapters.shops.base import ShipmentLine
from ..adapters.shops.registry import supports_write_back

_logger = logging.getLogger(__name__)

JOB_KINDS = [("confirm_shipment", "Shipment confirmation"), ("push_stock", "Stock update")]


class ShopSyncJob(models.Model):
    """One write-back to a shop (shipment confirmation, stock level), retried until done."""

    _name = "shop.sync.job"
    _description = "Shop write-back"
    _inherit = ["crm.shop.work.unit.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "external_ref"

    backend_id = fields.Many2one(
        "shop.backend", string="Shop", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    kind = fields.Selection(JOB_KINDS, required=True, readonly=True)
    external_ref = fields.Char(
        string="Reference", required=True, readonly=True, help="Shop order number or SKU."
    )
    payload = fields.Text(readonly=True, help="What is sent to the shop, as JSON.")
    state = fields.Selection(tracking=True)
    done_date = fields.Datetime(readonly=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null")
    picking_id = fields.Many2one("stock.picking", readonly=True, index="btree_not_null")
    product_id = fields.Many2one("product.product", readonly=True, index="btree_not_null")

    # a shipment is confirmed once; one open stock update per SKU (later ones refresh it)
    _shipment_uniq = models.UniqueIndex(
        "(backend_id, external_ref) WHERE kind = 'confirm_shipment'",
        "This shipment is already queued for the shop.",
    )
    _open_stock_uniq = models.UniqueIndex(
        "(backend_id, external_ref) WHERE kind = 'push_stock' AND state IN ('pending', 'error')",
        "A stock update for this SKU is already queued.",
    )

    # --- queueing ------------------------------------------------------------------

    @api.model
    def _queue_shipment(self, picking):
        order = picking.sale_id
        if not order.shop_backend_id or not order.shop_external_ref:
            return self
        if not supports_write_back(order.shop_backend_id.backend_type, "confirm_shipment"):
            return self  # file-based shops: the shipment is marked in the shop by hand
        ref = f"{order.shop_external_ref}/{picking.name}"
        existing = self.search(
            [("backend_id", "=", order.shop_backend_id.id), ("kind", "=", "confirm_shipment"),
             ("external_ref", "=", ref)]
        )  # fmt: skip
        if existing:
            return existing
        lines = [
            {"external_line_id": move.sale_line_id.shop_external_line_id, "quantity": int(qty)}
            for move in picking.move_ids
            if (qty := move.quantity) and "shop_external_line_id" in move.sale_line_id._fields
            and move.sale_line_id.shop_external_line_id
        ]  # fmt: skip
        # the platform's order id (the API key), not the order number shown to customers
        imported = self.env["shop.order.import"].search([("sale_order_id", "=", order.id)], limit=1)
        payload = {
            "external_id": imported.external_id or order.shop_external_ref,
            "carrier": picking.carrier_id.name or "",
            "tracking_ref": picking.carrier_tracking_ref or "",
            "lines": lines,
        }
        return self.create(
            {
                "backend_id": order.shop_backend_id.id,
                "kind": "confirm_shipment",
                "external_ref": ref,
                "payload": json.dumps(payload),
                "sale_order_id": order.id,
                "picking_id": picking.id,
            }
        )

    @api.model
    def _queue_stock(self, backend, product, quantity):
        """Queue (or refresh the open) stock update of ``product`` for ``backend``."""
        if not supports_write_back(backend.backend_type, "push_stock"):
            return self  # file-based shops take no stock updates
        payload = json.dumps({"sku": product.default_code, "quantity": max(int(quantity), 0)})
        domain = [
            ("backend_id", "=", backend.id),
            ("kind", "=", "push_stock"),
            ("external_ref", "=", product.default_code),
            ("state", "in", ["pending", "error"]),
        ]
        job = self.search(domain, limit=1)
        if job:
            job.payload = payload
            return job
        return self.create(
            {
                "backend_id": backend.id,
                "kind": "push_stock",
                "external_ref": product.default_code,
                "payload": payload,
                "product_id": product.id,
            }
        )

    # --- processing (the cron and retries come from crm.shop.work.unit.mixin) ----------

    def _apply(self):
        self._send()

    def _prepare_done_vals(self, result):
        return {"done_date": fields.Datetime.now()}

    def _failure_message(self, error):
        return self.env._("This write-back to the shop failed: %s", error)

    def _notify_failed(self, error):
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Shop write-back failed"),
            note=error,
        )

    def _send(self):
        backend = self.backend_id
        if not hasattr(backend, "_get_shop_adapter"):
            raise TransientError("the shop backend offers no adapter yet")
        adapter = backend._get_shop_adapter()
        data = json.loads(self.payload or "{}")
        if self.kind == "confirm_shipment":
            lines = [
                ShipmentLine(line["external_line_id"], line["quantity"]) for line in data["lines"]
            ]
            adapter.confirm_shipment(
                data["external_id"], data["carrier"], data["tracking_ref"], lines
            )
        elif self.kind == "push_stock":
            if not data.get("sku"):
                raise PermanentError("the product has no internal reference (SKU)")
            adapter.push_stock(data["sku"], data["quantity"])
