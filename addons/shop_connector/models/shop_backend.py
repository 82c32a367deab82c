import logging
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from ..adapters.shops.amazon import AmazonAdapter, AmazonSettings
from ..adapters.shops.ebay import EbayAdapter, EbaySettings
from ..adapters.shops.gambio import GambioAdapter, GambioSettings
from ..adapters.shops.shopify import ShopifyAdapter, ShopifySettings
from ..adapters.shops.shopware import ShopwareAdapter, ShopwareSettings
from ..adapters.shops.woocommerce import WooCommerceAdapter, WooCommerceSettings
from ..services.order_checks import CheckSettings

_logger = logging.getLogger(__name__)

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

    # --- import ----------------------------------------------------------------

    @api.model
    def _cron_import(self, batch_size=20):
        """Fetch new and changed orders of every active backend, one committed page at a time."""
        cron = self.env["ir.cron"]
        due = Domain("next_sync_date", "=", False) | Domain(
            "next_sync_date", "<=", fields.Datetime.now()
        )
        cron._commit_progress(remaining=self.search_count(due))
        for backend in self.search(due, limit=batch_size):
            locked = backend._shop_try_lock_for_update().filtered_domain(due)
            if locked:
                locked._import_orders()
            if not cron._commit_progress(1):
                break

    @api.private
    def _import_orders(self):
        """Store every fetched page, then move the cursor and commit; stop at the first error."""
        self.ensure_one()
        imports = self.env["shop.order.import"]
        self.next_sync_date = fields.Datetime.now() + timedelta(
            minutes=max(self.import_interval_minutes, 1)
        )
        woken = False
        try:
            for page in self._get_shop_adapter().fetch_orders(self.sync_cursor or None):
                with self.env.cr.savepoint():
                    # an order pushed meanwhile is stored already: not an error of the shop
                    imports._store_page(self, page, skip_concurrent=True)
                    if page.next_cursor is not None:
                        self.sync_cursor = page.next_cursor
                    if page.orders and not woken:  # processed now, not at the next interval
                        imports._shop_trigger_processing()
                        woken = True
                # the page and the cursor are committed together: the cursor never runs ahead
                if not self.env["ir.cron"]._commit_progress():
                    self.next_sync_date = fields.Datetime.now()  # out of time: go on next run
                    break
        except Exception as exc:  # noqa: BLE001 - the backend is the unit of work, recorded
            _logger.info("Order import of shop %s failed: %s", self.id, exc)
            self.write({"state": "error", "last_error": f"{type(exc).__name__}: {exc}"})
            return False
        self.write({"state": "ok", "last_error": False, "last_sync_date": fields.Datetime.now()})
        return True

    # --- adapter seam ------------------------------------------------------------

    def _get_shop_adapter(self):
        """The platform adapter for this backend (the one I/O seam of the order import)."""
        self.ensure_one()
        backend = self.sudo()
        builder = getattr(backend, f"_build_{self.backend_type}_adapter", None)
        if builder is None:
            raise UserError(
                self.env._("Orders cannot be fetched from %s automatically yet.", self.name)
            )
        if not backend.api_url:
            raise UserError(self.env._("Shop %s has no API URL.", self.name))
        return builder()

    def _import_since(self):
        if not self.import_since_date:
            return None
        return datetime.combine(self.import_since_date, time.min, tzinfo=timezone.utc)

    def _build_amazon_adapter(self):
        ids = tuple(x.strip() for x in (self.amazon_marketplace_ids or "").split(",") if x.strip())
        return AmazonAdapter(
            AmazonSettings(
                endpoint=self.api_url,
                marketplace_ids=ids,
                client_id=self.api_key or "",
                client_secret=self.api_secret or "",
                refresh_token=self.api_refresh_token or "",
                seller_id=self.amazon_seller_id or "",
                token_url=self.api_token_url or TOKEN_URLS["amazon"],
                import_since=self._import_since(),
            )
        )

    def _build_ebay_adapter(self):
        return EbayAdapter(
            EbaySettings(
                endpoint=self.api_url,
                client_id=self.api_key or "",
                client_secret=self.api_secret or "",
                refresh_token=self.api_refresh_token or "",
                token_url=self.api_token_url or TOKEN_URLS["ebay"],
                import_since=self._import_since(),
            )
        )

    def _build_shopify_adapter(self):
        return ShopifyAdapter(
            ShopifySettings(
                shop_url=self.api_url,
                access_token=self.api_secret or "",
                import_since=self._import_since(),
            )
        )

    def _build_woocommerce_adapter(self):
        return WooCommerceAdapter(
            WooCommerceSettings(
                base_url=self.api_url,
                consumer_key=self.api_key or "",
                consumer_secret=self.api_secret or "",
                import_since=self._import_since(),
            )
        )

    def _build_shopware6_adapter(self):
        return ShopwareAdapter(
            ShopwareSettings(
                base_url=self.api_url,
                client_id=self.api_key or "",
                client_secret=self.api_secret or "",
                import_since=self._import_since(),
            )
        )

    def _build_gambio_adapter(self):
        return GambioAdapter(
            GambioSettings(
                base_url=self.api_url,
                login=self.api_key or "",
                password=self.api_secret or "",
                shipped_status_id=self.gambio_shipped_status_id or 3,
            )
        )

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
