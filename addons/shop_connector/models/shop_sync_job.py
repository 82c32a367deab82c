import json
import logging

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.errors import PermanentError, TransientError
from odoo.addons.mail_crm_shop.services.retry import decide_retry

from ..adapters.shops.base import ShipmentLine

_logger = logging.getLogger(__name__)

JOB_STATES = [
    ("pending", "Pending"),
    ("done", "Done"),
    ("error", "Error (retry scheduled)"),
    ("failed", "Failed"),
]
JOB_KINDS = [("confirm_shipment", "Shipment confirmation"), ("push_stock", "Stock update")]


class ShopSyncJob(models.Model):
    """One write-back to a shop (shipment confirmation, stock level), retried until done."""

    _name = "shop.sync.job"
    _description = "Shop write-back"
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
    state = fields.Selection(
        JOB_STATES, default="pending", required=True, readonly=True, index=True, tracking=True
    )
    attempt_count = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_error = fields.Text(readonly=True)
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
        payload = {
            "external_id": order.shop_external_ref,
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

    # --- cron ----------------------------------------------------------------------

    @api.model
    def _due_domain(self):
        return Domain("state", "in", ["pending", "error"]) & (
            Domain("next_attempt_date", "=", False)
            | Domain("next_attempt_date", "<=", fields.Datetime.now())
        )

    @api.model
    def _cron_run(self, batch_size=50):
        """Send due write-backs to their shops, one committed unit per job."""
        due = self._due_domain()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(due))
        for job in self.search(due, limit=batch_size, order="id"):
            locked = job.try_lock_for_update().filtered_domain(due)
            if locked:
                locked._run()
            if not cron._commit_progress(1):
                break

    def action_retry(self):
        retried = self.filtered(lambda j: j.state in ("error", "failed"))
        retried.write(
            {"state": "pending", "attempt_count": 0, "next_attempt_date": fields.Datetime.now()}
        )
        retried.activity_unlink(["mail.mail_activity_data_todo"])
        return True

    @api.private
    def _run(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._send()
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            self._record_failure(exc)
        else:
            self.write(
                {
                    "state": "done",
                    "done_date": fields.Datetime.now(),
                    "last_error": False,
                    "next_attempt_date": False,
                }
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

    def _record_failure(self, exc):
        _logger.info("Shop write-back %s failed: %s", self.id, exc)
        decision = decide_retry(exc, self.attempt_count, fields.Datetime.now())
        error = f"{type(exc).__name__}: {exc}"
        self.write(
            {
                "state": decision.state,
                "attempt_count": decision.attempt_count,
                "next_attempt_date": decision.next_attempt_date,
                "last_error": error,
            }
        )
        if decision.state == "failed":
            self.message_post(
                body=self.env._("This write-back to the shop failed: %s", error),
                subtype_xmlid="mail.mt_note",
            )
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Shop write-back failed"),
                note=error,
            )
