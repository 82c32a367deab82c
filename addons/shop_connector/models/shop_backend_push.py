"""Orders the shop pushes to us (HTTP endpoint), stored like the polled ones."""

import secrets

from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.fields import Domain

from ..adapters.shops.registry import PAYLOAD_MAPPERS
from ..services.order_push import SIGNATURE_HEADERS
from ..services.orders import OrderPage

MANAGERS = "shop_connector.group_manager"
PUSH_PATH = "/shop_connector/push/%s/orders"


class ShopBackend(models.Model):
    _inherit = "shop.backend"  # pylint: disable=consider-merging-classes-inherited

    push_token = fields.Char(
        groups=MANAGERS,
        copy=False,
        readonly=True,
        help="The shop sends it as 'Authorization: Bearer <token>' with every pushed order.",
    )
    push_webhook_secret = fields.Char(
        string="Webhook secret",
        groups=MANAGERS,
        copy=False,
        help="Shopify: the key webhooks are signed with (Settings > Notifications > Webhooks, "
        "or the app's client secret); WooCommerce: the webhook's secret. Signed webhooks are "
        "accepted without the push token.",
    )
    push_enabled = fields.Boolean(
        string="Push active",
        compute="_compute_push_enabled",
        compute_sudo=True,
        help="Orders pushed to the push address are accepted.",
    )
    push_available = fields.Boolean(compute="_compute_push_available")
    push_url = fields.Char(
        string="Push address",
        compute="_compute_push_url",
        help="The shop POSTs its orders (JSON) to this address.",
    )

    @api.depends("push_token", "push_webhook_secret")
    def _compute_push_enabled(self):
        for backend in self:
            backend.push_enabled = bool(backend.push_token or backend._shop_webhook_secret())

    @api.depends("backend_type", "file_format")
    def _compute_push_available(self):
        for backend in self:
            backend.push_available = backend._shop_push_mapper() is not None

    def _compute_push_url(self):
        for backend in self:
            backend.push_url = (
                backend.get_base_url() + PUSH_PATH % backend.id if backend.id else False
            )

    def _shop_webhook_secret(self):
        """The webhook secret, only where the platform signs its webhooks."""
        self.ensure_one()
        backend = self.sudo()
        if backend.backend_type not in SIGNATURE_HEADERS:
            return ""
        return backend.push_webhook_secret or ""

    def _shop_push_mapper(self):
        """How a pushed order of this backend is read; None: this backend takes no pushes
        (CSV imports store file rows, not orders)."""
        self.ensure_one()
        if not self.backend_type or self._shop_is_csv():
            return None
        return PAYLOAD_MAPPERS.get(self.backend_type)

    def action_generate_push_token(self):
        """A new push token (the previous one stops working), shown once to the manager."""
        self.ensure_one()
        if not self._shop_push_mapper():
            raise UserError(self.env._("Shop %s cannot receive pushed orders.", self.name))
        token = secrets.token_urlsafe(32)
        self.push_token = token  # managers only: the field's groups refuse anyone else
        self.message_post(body=self.env._("A new push token was generated."))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "title": self.env._("New push token"),
                "message": self.env._(
                    "Give the shop this token now, it is not shown again: %(token)s "
                    "(address: %(url)s)",
                    token=token,
                    url=self.push_url,
                ),
            },
        }

    def action_disable_push(self):
        """Refuse pushed orders from now on (token and webhook secret removed)."""
        self.write({"push_token": False, "push_webhook_secret": False})
        for backend in self:
            backend.message_post(body=self.env._("Order push switched off."))
        return True

    @api.private
    def _shop_store_pushed_orders(self, orders):
        """Store pushed ``orders`` exactly as a polled page; return the counts.

        ``stored``: orders new or changed; ``duplicates``: the rest (already stored with
        the same content, or older than what we have). A concurrent store of the same
        order is retried by the HTTP layer as a whole."""
        self.ensure_one()
        imports = self.env["shop.order.import"]
        known = Domain("backend_id", "=", self.id) & Domain(
            "external_id", "in", list({order.external_id for order in orders})
        )
        before = {record.external_id: record.payload for record in imports.search(known)}
        try:
            with self.env.cr.savepoint():
                imports._store_page(self, OrderPage(tuple(orders), None, False))
        except UniqueViolation as exc:
            raise ConcurrencyError(f"order of shop {self.id} stored concurrently") from exc
        stored = sum(
            1
            for record in imports.search(known)
            if record.external_id not in before or before[record.external_id] != record.payload
        )
        if stored:
            self.env["shop.order.import"]._shop_trigger_processing()
        return {"received": len(orders), "stored": stored, "duplicates": len(orders) - stored}
