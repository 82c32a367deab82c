from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.models.crm_shop_case import CLOSED_STATES

REMATCH_CRON = "shop_connector.ir_cron_rematch_open_payments"


class ShopPaymentAccount(models.Model):
    """Open incoming payments matched again when new orders or invoices appear.

    Customers often pay right after ordering, with the shop's order number, before the
    order is imported: at import no candidate exists. The cron below matches the open
    payments of the last ``rematch_days`` again (every 15 minutes, and soon after an
    order import created orders waiting for payment or an invoice was posted).
    """

    # pylint: disable=consider-merging-classes-inherited
    _inherit = "shop.payment.account"

    rematch_days = fields.Integer(
        string="Match again for (days)",
        default=30,
        help="An incoming payment without a match is matched again, when new orders or "
        "invoices appear, for this many days after its booking date (0: never).",
    )

    def _shop_open_payments_domain(self, today):
        """Incoming payments of these accounts still waiting for their order or invoice.

        A payment whose "unmatched payment" case is still open is matched too (only
        proposed, see ``_store_result``); once its case is closed, the person decided."""
        accounts = Domain.OR(
            Domain("shop_payment_account_id", "=", account.id)
            & Domain("date", ">=", today - timedelta(days=account.rematch_days))
            for account in self
        )
        no_closed_case = Domain("shop_case_id", "=", False) | Domain(
            "shop_case_id.state", "not in", CLOSED_STATES
        )
        return (
            accounts
            & Domain(
                [
                    ("shop_transaction_kind", "=", "payment"),
                    ("shop_transaction_key", "!=", False),
                    ("amount", ">", 0),
                    ("is_reconciled", "=", False),
                ]
            )
            & no_closed_case
        )

    @api.model
    def _cron_rematch_open_payments(self, batch_size=100):
        """Match the open incoming payments again, one committed chunk at a time.

        Each chunk's movements are row-locked (SKIP LOCKED: another worker's chunk is
        left to it); proposals stay unless a better candidate appeared, sure ones are
        confirmed as at import.
        """
        accounts = self.search([("rematch_days", ">", 0)])
        if not accounts:
            return
        domain = accounts._shop_open_payments_domain(fields.Date.context_today(self))
        lines = self.env["account.bank.statement.line"].search(domain, order="date desc, id")
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(lines))
        Match = self.env["shop.payment.match"].with_context(shop_payment_no_rematch=True)
        for start in range(0, len(lines), batch_size):
            chunk = lines[start : start + batch_size]
            locked = chunk._shop_try_lock_for_update().filtered_domain(domain)
            if locked:
                Match._shop_rematch(locked)
            if not cron._commit_progress(len(chunk)):
                break

    @api.model
    def _shop_trigger_rematch(self, imports=None):
        """Run the matching again soon: once per batch of ``imports`` (shop order imports)
        that created orders waiting for payment, or at once without ``imports``.

        One trigger per transaction (invoices are posted one by one; without this, one
        trigger row per invoice), and none when another transaction left a trigger that
        is due within the next minute but not yet: that run comes after this
        transaction. A trigger due already does not count: a run under way may have
        taken it (its removal commits when the run ends, so it is still seen here) and
        would miss what this transaction adds."""
        if self.env.context.get("shop_payment_no_rematch"):
            return
        if imports is not None and not imports.sale_order_id.filtered(
            lambda order: order.shop_release_state == "waiting_payment"
        ):
            return
        if not self.sudo().search_count([("rematch_days", ">", 0)], limit=1):
            return
        cron = self.env.ref(REMATCH_CRON).sudo()
        now = fields.Datetime.now()
        pending = (
            Domain("cron_id", "=", cron.id)
            & Domain("call_at", "<=", now + timedelta(minutes=1))
            & (
                # this transaction's own (records created in it carry its start as date)
                Domain("create_date", "=", self.env.cr.now()) | Domain("call_at", ">", now)
            )
        )
        if not self.env["ir.cron.trigger"].sudo().search_count(pending, limit=1):
            cron._trigger()
