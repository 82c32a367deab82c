import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class ShopPaymentAccount(models.Model):
    """Team inbox cases for incoming payments left unmatched for too long."""

    _inherit = "shop.payment.account"  # pylint: disable=consider-merging-classes-inherited

    # --- cases -----------------------------------------------------------------

    @api.model
    def _cron_open_unmatched_cases(self, batch_size=50):
        """One team inbox case per incoming payment left unmatched for too long."""
        today = fields.Date.context_today(self)
        due = self.env["account.bank.statement.line"]
        for account in self.search([("unmatched_case_days", ">", 0)]):
            due |= due.search(
                [
                    ("shop_payment_account_id", "=", account.id),
                    ("shop_transaction_kind", "=", "payment"),
                    ("amount", ">", 0),
                    ("is_reconciled", "=", False),
                    ("shop_case_id", "=", False),
                    ("date", "<=", today - timedelta(days=account.unmatched_case_days)),
                ],
                order="date, id",
            )
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(due))
        for line in due[:batch_size]:
            locked = line._shop_try_lock_for_update().filtered(lambda rec: not rec.shop_case_id)
            if locked:
                locked.shop_payment_account_id._open_unmatched_case_safely(locked)
            if not cron._commit_progress(1):
                break

    def _open_unmatched_case_safely(self, line):
        """Open the case of ``line``; a failure is written on the movement (its list shows
        why) and the next run tries again, the other movements go on."""
        try:
            with self.env.cr.savepoint():
                self._open_unmatched_case(line)
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            _logger.warning(
                "Payment account %s: no case for movement %s: %s", self.name, line.id, exc
            )
            line.shop_match_reason = self.env._(
                "Opening a case for this payment failed (tried again tomorrow): %s",
                f"{type(exc).__name__}: {exc}",
            )

    def _open_unmatched_case(self, line):
        self.ensure_one()
        case = (
            self.env["crm.shop.case"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "Unmatched payment %(amount)s %(currency)s from %(payer)s",
                        amount=line.amount,
                        currency=line.currency_id.name,
                        payer=line.partner_name or "?",
                    ),
                    "queue_id": self.env["crm.shop.queue"]
                    ._shop_exception_queue(line.company_id, self.queue_id)
                    .id,
                    "company_id": line.company_id.id,
                    "partner_id": line.partner_id.id,
                    "description": Markup("<p>%s</p><p>%s</p>")
                    % (line.payment_ref or "", line.shop_match_reason or ""),
                }
            )
        )
        line.shop_case_id = case
