import logging
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.retry import asked_wait

from ..adapters.paypal import PayPalAdapter, PayPalSettings
from .shop_payment_account import PAYPAL_URL

_logger = logging.getLogger(__name__)

PAYPAL_START = timedelta(days=30)  # how far back the first PayPal import reads


class ShopPaymentAccount(models.Model):
    """PayPal accounts: movements imported window by window through the PayPal API."""

    _inherit = "shop.payment.account"  # pylint: disable=consider-merging-classes-inherited

    @api.private
    def _get_paypal_adapter(self):
        """The PayPal adapter of this account (the one I/O seam, replaced in tests)."""
        self.ensure_one()
        account = self.sudo()
        settings = PayPalSettings(
            client_id=account.paypal_client_id or "",
            client_secret=account.paypal_client_secret or "",
            base_url=(self.paypal_api_url or PAYPAL_URL).rstrip("/"),
            account=self.account_identifier or f"paypal-{self.id}",
        )
        return PayPalAdapter(settings)

    @api.model
    def _cron_import_paypal(self, batch_size=10):
        """Import up to ``batch_size`` PayPal windows per account, one commit per window."""
        accounts = self.search(
            Domain("kind", "=", "paypal")
            & (
                Domain("paypal_wait_until", "=", False)
                | Domain("paypal_wait_until", "<=", fields.Datetime.now())
            )
        )
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(accounts))
        for account in accounts:
            locked = account._shop_try_lock_for_update()
            if locked:
                locked._import_paypal(batch_size)
            if not cron._commit_progress(1):
                break

    @api.private
    def _import_paypal(self, max_windows):
        """Store the windows after the cursor; a failure is stored on the account."""
        self.ensure_one()
        now = fields.Datetime.now()
        cursor = self.paypal_cursor_date or (now - PAYPAL_START)
        try:
            adapter = self._get_paypal_adapter()
            for count, window in enumerate(adapter.fetch_windows(_aware(cursor), _aware(now)), 1):
                with self.env.cr.savepoint():
                    name = self.env._(
                        "PayPal %(start)s to %(end)s", start=window.start, end=window.end
                    )
                    lines, _known = self._import_transactions(window.transactions, name)
                    self.write({"paypal_cursor_date": _naive(window.end)})
                    lines._shop_match()
                # the window and its cursor are committed together
                self.env["ir.cron"]._commit_progress()
                if count >= max_windows:
                    self.env.ref("shop_connector.ir_cron_import_paypal")._trigger()
                    break
        except Exception as exc:  # noqa: BLE001 - backend boundary, recorded on the account
            _logger.warning("Payment account %s: PayPal import failed: %s", self.name, exc)
            wait = asked_wait(exc)  # a rate limit: the next run is not before its end
            self.write(
                {
                    "state": "error",
                    "last_error": f"{type(exc).__name__}: {exc}",
                    "last_sync_date": now,
                    "paypal_wait_until": fields.Datetime.now() + wait if wait else False,
                }
            )
        else:
            self.write(
                {
                    "state": "ok",
                    "last_error": False,
                    "last_sync_date": now,
                    "paypal_wait_until": False,
                }
            )


def _aware(value):
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _naive(value: datetime):
    return value.astimezone(timezone.utc).replace(tzinfo=None)
