from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.bank_csv import FIELDS, CsvMapping

PAYPAL_URL = "https://api-m.paypal.com"


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
    paypal_wait_until = fields.Datetime(
        string="PayPal asked to wait until",
        readonly=True,
        copy=False,
        help="PayPal refused an import for now and asked to wait (rate limit): the next "
        "scheduled import of this account does not start before.",
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
        """Run the PayPal import cron soon (it commits per window, a button must not), also
        for an account PayPal asked to wait: the person asking decides."""
        self.filtered("paypal_wait_until").write({"paypal_wait_until": False})
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
