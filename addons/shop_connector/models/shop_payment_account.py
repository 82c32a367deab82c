import logging
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.paypal import PayPalAdapter, PayPalSettings
from ..services.bank_csv import FIELDS, CsvMapping

_logger = logging.getLogger(__name__)

PAYPAL_URL = "https://api-m.paypal.com"
PAYPAL_START = timedelta(days=30)  # how far back the first PayPal import reads


class ShopPaymentAccount(models.Model):
    """A PayPal account or a bank account whose money movements are imported and matched."""

    _name = "shop.payment.account"
    _description = "Payment account (PayPal or bank)"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    kind = fields.Selection([("paypal", "PayPal"), ("bank", "Bank account")], required=True)
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        domain=[("type", "=", "bank")],
        help="Every imported movement becomes a statement line of this bank journal.",
    )
    company_id = fields.Many2one(related="journal_id.company_id", store=True)
    account_identifier = fields.Char(
        string="IBAN / PayPal account",
        help="Identifies the account in transaction keys; for a bank, its IBAN.",
    )
    paypal_client_id = fields.Char(string="PayPal client id", groups="shop_connector.group_manager")
    paypal_client_secret = fields.Char(
        string="PayPal secret", groups="shop_connector.group_manager", copy=False
    )
    paypal_api_url = fields.Char(string="PayPal API URL", default=PAYPAL_URL)
    paypal_cursor_date = fields.Datetime(
        string="Imported up to", copy=False, help="The next PayPal import continues here."
    )
    state = fields.Selection(
        [("draft", "Not imported yet"), ("ok", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    last_sync_date = fields.Datetime(string="Last import", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    auto_confirm = fields.Boolean(
        help="Confirm a match without a person when the matcher is sure (off by default)."
    )
    auto_confirm_threshold = fields.Integer(
        string="Auto-confirm from score", default=90, help="0..100; only used with auto-confirm."
    )
    fx_tolerance_pct = fields.Float(
        string="Currency tolerance (%)",
        default=2.0,
        help="A payment in another currency is proposed when, converted at the company's "
        "rate of the payment day, it is this close to the amount due.",
    )
    writeoff_account_id = fields.Many2one(
        "account.account",
        string="Write-off account",
        help="Small differences between paid and due may be written off to this account "
        "when a payment is confirmed.",
    )
    writeoff_tolerance = fields.Float(
        string="Write-off up to",
        default=1.0,
        help="Largest difference (in the journal's currency) that may be written off.",
    )
    unmatched_case_days = fields.Integer(
        string="Days before a case",
        default=7,
        help="An unmatched incoming payment or an unpaid prepayment order becomes a case "
        "in the team inbox after this many days.",
    )
    queue_id = fields.Many2one(
        "crm.shop.queue", string="Cases land in", help="Queue of the payment cases."
    )
    csv_delimiter = fields.Char(string="CSV delimiter", default=";", size=1)
    csv_encoding = fields.Char(string="CSV encoding", default="cp1252")
    csv_date_format = fields.Char(string="CSV date format", default="%d.%m.%Y")
    csv_decimal_comma = fields.Boolean(string="Decimal comma", default=True)
    csv_columns = fields.Text(
        string="CSV columns",
        help="One line per field: field=column header, e.g. booking_date=Buchungstag. "
        "Fields: " + ", ".join(FIELDS) + ". Join several purpose columns with +.",
    )
    statement_line_ids = fields.One2many(
        "account.bank.statement.line", "shop_payment_account_id", string="Movements"
    )
    match_count = fields.Integer(compute="_compute_match_count")

    _writeoff_tolerance_positive = models.Constraint(
        "CHECK(writeoff_tolerance >= 0 AND fx_tolerance_pct >= 0)",
        "Tolerances cannot be negative.",
    )
    _auto_confirm_threshold_range = models.Constraint(
        "CHECK(auto_confirm_threshold BETWEEN 0 AND 100)",
        "The auto-confirm score must be between 0 and 100.",
    )

    def _compute_match_count(self):
        counts = dict(
            self.env["shop.payment.match"]._read_group(
                [("payment_account_id", "in", self.ids), ("state", "=", "proposed")],
                ["payment_account_id"],
                ["__count"],
            )
        )
        for account in self:
            account.match_count = counts.get(account, 0)

    def action_view_matches(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "shop_connector.shop_payment_match_action"
        )
        action["domain"] = [("payment_account_id", "=", self.id)]
        return action

    def action_import_now(self):
        """Run the PayPal import cron soon (it commits per window, a button must not)."""
        self.env.ref("shop_connector.ir_cron_import_paypal")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("Import started; refresh in a moment."),
            },
        }

    # --- settings --------------------------------------------------------------

    @api.private
    def _get_csv_mapping(self):
        """The account's CSV mapping as the parser's :class:`CsvMapping`."""
        self.ensure_one()
        columns = {}
        for line in (self.csv_columns or "").splitlines():
            if not line.strip():
                continue
            name, sep, header = line.partition("=")
            if not sep or not header.strip():
                raise UserError(
                    self.env._("CSV column line %(line)r must read field=header.", line=line)
                )
            columns[name.strip()] = header.strip()
        return CsvMapping(
            delimiter=self.csv_delimiter or ";",
            encoding=self.csv_encoding or "cp1252",
            date_format=self.csv_date_format or "%d.%m.%Y",
            decimal_comma=self.csv_decimal_comma,
            columns=columns,
            default_currency=self.journal_id.currency_id.name or self.company_id.currency_id.name,
        )

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

    # --- import ----------------------------------------------------------------

    @api.private
    def _import_transactions(self, transactions, statement_name):
        """Store new movements as statement lines of one statement; return (new, known).

        Movements whose key is already stored on the journal are counted, not stored.
        """
        self.ensure_one()
        Line = self.env["account.bank.statement.line"]
        by_key = {t.key: t for t in transactions}
        known = set(
            Line.search(
                [
                    ("journal_id", "=", self.journal_id.id),
                    ("shop_transaction_key", "in", list(by_key)),
                ]
            ).mapped("shop_transaction_key")
        )
        new = [t for key, t in by_key.items() if key not in known]
        lines = Line
        if new:
            statement = self.env["account.bank.statement"].create(
                {
                    "name": statement_name,
                    "journal_id": self.journal_id.id,
                    "line_ids": [
                        fields.Command.create(Line._shop_prepare_line_vals(self, t)) for t in new
                    ],
                }
            )
            lines = statement.line_ids
        return lines, len(transactions) - len(new)

    @api.model
    def _cron_import_paypal(self, batch_size=10):
        """Import up to ``batch_size`` PayPal windows per account, one commit per window."""
        accounts = self.search([("kind", "=", "paypal")])
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
            self.write(
                {
                    "state": "error",
                    "last_error": f"{type(exc).__name__}: {exc}",
                    "last_sync_date": now,
                }
            )
        else:
            self.write({"state": "ok", "last_error": False, "last_sync_date": now})

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


def _aware(value):
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _naive(value: datetime):
    return value.astimezone(timezone.utc).replace(tzinfo=None)
