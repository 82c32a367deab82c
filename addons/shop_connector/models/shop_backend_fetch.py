import logging
from datetime import datetime, time, timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.retry import asked_wait

from ..adapters.shops.amazon import AmazonAdapter, AmazonSettings
from ..adapters.shops.ebay import EbayAdapter, EbaySettings
from ..adapters.shops.gambio import GambioAdapter, GambioSettings
from ..adapters.shops.shopify import ShopifyAdapter, ShopifySettings
from ..adapters.shops.shopware import ShopwareAdapter, ShopwareSettings
from ..adapters.shops.woocommerce import WooCommerceAdapter, WooCommerceSettings
from .shop_backend import TOKEN_URLS

_logger = logging.getLogger(__name__)


class ShopBackend(models.Model):
    """Orders fetched from the platform's API: the import cron and the adapters.

    Loaded before shop_backend_folder.py, whose ``_import_orders`` overrides this one
    for order folders.
    """

    _inherit = "shop.backend"  # pylint: disable=consider-merging-classes-inherited

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
            vals = {"state": "error", "last_error": f"{type(exc).__name__}: {exc}"}
            wait = asked_wait(exc)
            if wait:  # the shop asked to wait (Retry-After): the next run is not before
                vals["next_sync_date"] = max(self.next_sync_date, fields.Datetime.now() + wait)
            self.write(vals)
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
