from datetime import timezone
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.order_checks import CheckSettings

BACKEND_TYPES = [
    ("amazon", "Amazon (Selling Partner API)"),
    ("ebay", "eBay (Sell Fulfillment API)"),
    ("shopify", "Shopify (Admin API)"),
    ("woocommerce", "WooCommerce (REST v3)"),
    ("shopware6", "Shopware 6 (Admin API)"),
    ("gambio", "Gambio (REST API)"),
    ("yatego", "Yatego (order CSV)"),
    ("generic", "Generic JSON/CSV import"),
]
MANAGERS = "shop_connector.group_manager"
# the documented OAuth token endpoints (refresh-token grant) of the marketplaces
TOKEN_URLS = {
    "amazon": "https://api.amazon.com/auth/o2/token",
    "ebay": "https://api.ebay.com/identity/v1/oauth2/token",
}


class ShopBackend(models.Model):
    _name = "shop.backend"
    _description = "Shop or marketplace account"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    backend_type = fields.Selection(BACKEND_TYPES, string="Platform", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one("crm.team", string="Sales team")
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True)
    pricelist_id = fields.Many2one("product.pricelist", check_company=True)
    # connection; the meaning of key/secret depends on the platform (see the form's help)
    api_url = fields.Char(string="API URL", groups=MANAGERS)
    api_key = fields.Char(
        string="API key / client id",
        groups=MANAGERS,
        help="Amazon, eBay, Shopware: client id; WooCommerce: consumer key; "
        "Gambio and file imports: login. Shopify does not use it.",
    )
    api_secret = fields.Char(
        string="API secret",
        groups=MANAGERS,
        copy=False,
        help="Client secret, consumer secret or password; Shopify: the Admin API access token.",
    )
    api_refresh_token = fields.Char(
        string="Refresh token", groups=MANAGERS, copy=False, help="Amazon and eBay (OAuth)."
    )
    api_token_url = fields.Char(
        string="Token URL",
        groups=MANAGERS,
        compute="_compute_api_token_url",
        store=True,
        readonly=False,
        help="Amazon and eBay: where the refresh token is exchanged for an access token. "
        "Filled with the platform's address; change it for a sandbox.",
    )
    amazon_marketplace_ids = fields.Char(
        string="Marketplace ids", groups=MANAGERS, help="Amazon: comma separated."
    )
    amazon_seller_id = fields.Char(string="Seller id", groups=MANAGERS)
    gambio_shipped_status_id = fields.Integer(
        string="Shipped status id",
        default=3,
        help="Gambio: the order status set when the parcel has left, with carrier and "
        "tracking number in its comment (3, Versendet, in a standard shop).",
    )
    import_since_date = fields.Date(
        string="Import orders changed since", help="Where the very first import starts."
    )
    # mapping
    payment_method_map_ids = fields.One2many(
        "shop.payment.method.map", "backend_id", string="Payment methods"
    )
    carrier_map_ids = fields.One2many("shop.carrier.map", "backend_id", string="Carriers")
    default_carrier_id = fields.Many2one(
        "delivery.carrier",
        string="Default delivery method",
        check_company=True,
        help="For orders whose shipping method has no carrier mapping line.",
    )
    # processing
    price_tolerance = fields.Float(
        string="Total tolerance",
        default=0.02,
        digits=(16, 2),
        help="Largest accepted difference between the shop's total and the sum of the lines.",
    )
    exception_queue_id = fields.Many2one(
        "crm.shop.queue", help="Team inbox queue for orders that need a person."
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", help="Gets an activity when an order cannot be imported."
    )
    import_interval_minutes = fields.Integer(default=15)
    next_sync_date = fields.Datetime(
        string="Next import", copy=False, help="Empty: at the next run of the import job."
    )
    sync_cursor = fields.Char(readonly=True, copy=False, help="Where the next import continues.")
    state = fields.Selection(
        [("draft", "Not synced yet"), ("ok", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    last_sync_date = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    order_import_ids = fields.One2many("shop.order.import", "backend_id")
    order_import_count = fields.Integer(compute="_compute_order_import_count")

    @api.depends("backend_type")
    def _compute_api_token_url(self):
        for backend in self:
            backend.api_token_url = TOKEN_URLS.get(backend.backend_type, False)

    def _compute_order_import_count(self):
        counts = dict(
            self.env["shop.order.import"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.order_import_count = counts.get(backend, 0)

    def action_view_order_imports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "shop_connector.shop_order_import_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_sync_now(self):
        self.write({"next_sync_date": fields.Datetime.now()})
        self.env.ref("shop_connector.ir_cron_import")._trigger()
        self.env["shop.order.import"]._shop_trigger_processing()
        return True

    def action_test_connection(self):
        """Fetch the first page of orders and throw it away: are URL and credentials right?"""
        self.ensure_one()
        try:
            page = next(iter(self._get_shop_adapter().fetch_orders(self.sync_cursor or None)), None)
        except UserError:
            raise
        except Exception as exc:  # shown to the person who asked
            raise UserError(self.env._("The shop did not answer as expected: %s", exc)) from exc
        count = len(page.orders) + len(page.unmapped) if page else 0
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Connected: %s orders waiting on the first page.", count),
            },
        }

    def action_reset_cursor(self):
        """Start the next import again from the configured date (nothing is duplicated)."""
        self.write({"sync_cursor": False})

    # --- processing helpers --------------------------------------------------------

    def _get_check_settings(self):
        return CheckSettings(total_tolerance=Decimal(str(self.price_tolerance or 0)))

    def _get_exception_queue(self):
        if not self:  # not a shop's order: no shop queue
            return self.env["crm.shop.queue"]
        return self.env["crm.shop.queue"]._shop_exception_queue(
            self.company_id, self.exception_queue_id
        )

    def _shop_prepare_sale_order_vals(self, order, partners):
        """Header of the quotation of ``order``; ``partners``: customer, invoice, delivery."""
        self.ensure_one()
        customer, invoice, delivery = partners
        vals = {
            "partner_id": customer.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": delivery.id,
            "company_id": self.company_id.id,
            "shop_backend_id": self.id,
            "shop_external_ref": order.number or order.external_id,
            "client_order_ref": order.number or order.external_id,
            "origin": self.name,
            "date_order": order.created_at.astimezone(timezone.utc).replace(tzinfo=None),
        }
        for field in ("team_id", "warehouse_id", "pricelist_id"):
            if self[field]:
                vals[field] = self[field].id
        mapping = self.payment_method_map_ids.filtered(
            lambda m: m.shop_code == order.payment_method
        )[:1]
        if "shop_payment_method" in self.env["sale.order"]._fields:
            # unmapped codes pass through: the release rule then treats them as unknown
            vals["shop_payment_method"] = mapping.method_kind or order.payment_method
        if mapping.payment_term_id:
            vals["payment_term_id"] = mapping.payment_term_id.id
        return vals
