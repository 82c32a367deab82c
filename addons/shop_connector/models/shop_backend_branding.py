from datetime import datetime, time

from odoo import fields, models


class ShopBackend(models.Model):
    """Per-shop branding of customer mails, payment reminders and the dashboard figures."""

    _inherit = "shop.backend"

    mail_signature = fields.Html(
        string="Mail signature", help="Closes every customer mail sent for orders of this shop."
    )
    payment_overdue_days = fields.Integer(
        default=7,
        help="Orders waiting for their payment this many days open a payment reminder case. "
        "Zero: never.",
    )
    _payment_overdue_days_not_negative = models.Constraint(
        "CHECK(payment_overdue_days >= 0)",
        "The payment reminder days cannot be negative (0: no reminder).",
    )

    dashboard_imported_today = fields.Integer(string="Imported today", compute="_compute_dashboard")
    dashboard_waiting_payment = fields.Integer(
        string="Waiting for payment", compute="_compute_dashboard"
    )
    dashboard_exception = fields.Integer(string="In exception", compute="_compute_dashboard")
    dashboard_shipped_today = fields.Integer(string="Shipped today", compute="_compute_dashboard")
    dashboard_sync_errors = fields.Integer(string="Write-back errors", compute="_compute_dashboard")

    def _count_by_backend(self, model, field, domain):
        groups = self.env[model]._read_group(
            [(field, "in", self.ids), *domain], [field], ["__count"]
        )
        return {backend.id: count for backend, count in groups}

    def _compute_dashboard(self):
        today = datetime.combine(fields.Date.context_today(self), time.min)
        imported = self._count_by_backend(
            "shop.order.import", "backend_id", [("create_date", ">=", today)]
        )
        waiting = self._count_by_backend(
            "sale.order", "shop_backend_id", [("shop_release_state", "=", "waiting_payment")]
        )
        exception = self._count_by_backend(
            "sale.order", "shop_backend_id", [("shop_release_state", "=", "exception")]
        )
        shipped = self._count_by_backend(
            "shop.sync.job",
            "backend_id",
            [("kind", "=", "confirm_shipment"), ("create_date", ">=", today)],
        )
        errors = self._count_by_backend(
            "shop.sync.job", "backend_id", [("state", "in", ["error", "failed"])]
        )
        for backend in self:
            backend.dashboard_imported_today = imported.get(backend.id, 0)
            backend.dashboard_waiting_payment = waiting.get(backend.id, 0)
            backend.dashboard_exception = exception.get(backend.id, 0)
            backend.dashboard_shipped_today = shipped.get(backend.id, 0)
            backend.dashboard_sync_errors = errors.get(backend.id, 0)

    def action_dashboard_sync_now(self):
        """Import now (the import's own action when it exists) and send due write-backs."""
        self.ensure_one()
        if hasattr(self, "action_sync_now"):
            self.action_sync_now()
        self.env.ref("shop_connector.ir_cron_run_sync_jobs")._trigger()
        return True

    def _dashboard_open(self, model, field, domain, name):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "domain": [(field, "=", self.id), *domain],
        }

    def action_dashboard_waiting_payment(self):
        return self._dashboard_open(
            "sale.order",
            "shop_backend_id",
            [("shop_release_state", "=", "waiting_payment")],
            self.env._("Waiting for payment"),
        )

    def action_dashboard_exception(self):
        return self._dashboard_open(
            "sale.order",
            "shop_backend_id",
            [("shop_release_state", "=", "exception")],
            self.env._("In exception"),
        )

    def action_dashboard_sync_jobs(self):
        return self._dashboard_open("shop.sync.job", "backend_id", [], self.env._("Write-backs"))
