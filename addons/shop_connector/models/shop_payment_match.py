import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.matching import match_all
from ..services.matching_types import MatchSettings

_logger = logging.getLogger(__name__)

MATCH_STATES = [
    ("proposed", "To confirm"),
    ("confirmed", "Confirmed"),
    ("auto_confirmed", "Confirmed automatically"),
    ("rejected", "Rejected"),
]


class ShopPaymentMatch(models.Model):
    """A proposal: this movement pays that order or invoice(s), with the reasons why."""

    _name = "shop.payment.match"
    _description = "Payment match proposal"
    _inherit = ["mail.thread"]
    _order = "state, score desc, id desc"

    statement_line_id = fields.Many2one(
        "account.bank.statement.line", required=True, readonly=True, index=True, ondelete="cascade"
    )
    payment_account_id = fields.Many2one(
        related="statement_line_id.shop_payment_account_id", store=True, index=True
    )
    company_id = fields.Many2one(related="statement_line_id.company_id", store=True)
    date = fields.Date(related="statement_line_id.date")
    amount = fields.Monetary(related="statement_line_id.amount")
    currency_id = fields.Many2one(related="statement_line_id.currency_id")
    payment_ref = fields.Char(related="statement_line_id.payment_ref", string="Purpose")
    payer_name = fields.Char(related="statement_line_id.partner_name", string="Payer")
    partner_id = fields.Many2one("res.partner", string="Customer", index="btree_not_null")
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Order",
        index="btree_not_null",
        domain="[('partner_id', 'child_of', partner_id), ('state', '=', 'sale')]",
    )
    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        domain="[('partner_id', 'child_of', partner_id), ('move_type', '=', 'out_invoice'),"
        " ('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    score = fields.Integer(readonly=True, aggregator="max")
    confidence = fields.Selection(
        [("high", "High"), ("medium", "Medium"), ("low", "Low")],
        compute="_compute_confidence",
        store=True,
    )
    needs_person = fields.Boolean(readonly=True)
    reason = fields.Char(string="Needs a person because", readonly=True)
    state = fields.Selection(
        MATCH_STATES, default="proposed", required=True, readonly=True, index=True, tracking=True
    )
    evidence_ids = fields.One2many("shop.payment.match.evidence", "match_id", readonly=True)

    @api.depends("score")
    def _compute_confidence(self):
        for match in self:
            match.confidence = (
                "high" if match.score >= 80 else "medium" if match.score >= 50 else "low"
            )

    @api.depends("statement_line_id", "score")
    def _compute_display_name(self):
        for match in self:
            match.display_name = f"{match.statement_line_id.payment_ref or ''} ({match.score})"

    # --- matching --------------------------------------------------------------

    @api.model
    def _match_statement_lines(self, lines, keep=False):
        """Propose matches for the open movements among ``lines``.

        Old proposals are replaced; with ``keep`` (matching again later, when new orders
        or invoices may have appeared) they stay unless a better candidate turned up or
        their order or invoices are no longer open. Confirmed and rejected matches are
        never touched, and what a person rejected is never proposed again.
        """
        lines = lines.filtered(lambda line: not line.is_reconciled and line.shop_transaction_key)
        if not lines:
            return self
        if not keep:
            self.search(
                [("statement_line_id", "in", lines.ids), ("state", "=", "proposed")]
            ).unlink()
        matches = self
        confirmed = set()  # candidates confirmed in this run: one payment confirms each
        for company in lines.company_id:
            candidates, records = self._build_candidates(company)
            payers = self.env["shop.payer.mapping"]
            known, names = payers._known_payers(company), payers._known_payer_names(company)
            for account in lines.shop_payment_account_id:
                account_lines = lines.filtered_domain(
                    [("shop_payment_account_id", "=", account.id), ("company_id", "=", company.id)]
                )
                if not account_lines:
                    continue
                results = self._match_account_lines(
                    account, account_lines, candidates, (known, names)
                )
                for line, result in zip(account_lines, results, strict=True):
                    matches |= self._store_result(line, result, records, account, confirmed)
        return matches

    @api.model
    def _match_account_lines(self, account, lines, candidates, payers):
        """The matcher's results for the ``lines`` of one payment ``account`` (its
        thresholds), one company's; ``payers``: its known payers and learned names."""
        known, names = payers
        settings = MatchSettings(
            auto_threshold=account.auto_confirm_threshold,
            fx_tolerance_pct=Decimal(str(account.fx_tolerance_pct)),
        )
        return match_all(
            [line._shop_to_transaction() for line in lines],
            candidates,
            known,
            settings,
            learned_names=names,
            rates=self._get_rates(lines.company_id),
        )

    @api.model
    def _get_rates(self, company):
        """The matcher's ``rates``: Odoo's conversion rate of the payment day (cached)."""
        Currency = self.env["res.currency"].with_context(active_test=False)
        cache = {}

        def rate(source, target, day):
            key = (source, target, day)
            if key not in cache:
                currencies = Currency.search([("name", "in", (source, target))])
                by_name = {c.name: c for c in currencies}
                if len(by_name) != 2:
                    cache[key] = None
                else:
                    value = Currency._get_conversion_rate(
                        by_name[source], by_name[target], company, day
                    )
                    cache[key] = Decimal(str(round(value, 6))) if value else None
            return cache[key]

        return rate

    # --- actions ---------------------------------------------------------------

    def action_reject(self):
        proposed = self.filtered(lambda m: m.state == "proposed")
        proposed.write({"state": "rejected"})
        for match in proposed:
            match.message_post(body=self.env._("Rejected by %s.", self.env.user.name))
        return True

    def _auto_confirm(self):
        """Confirm without a person; a failure leaves the proposal for a person."""
        try:
            with self.env.cr.savepoint():
                # matching runs already: posting the order's invoice need not trigger it
                self.with_context(shop_payment_no_rematch=True)._confirm(auto=True)
        except UserError as exc:
            _logger.info("Payment match %s not confirmed automatically: %s", self.id, exc)
            self.statement_line_id.shop_match_reason = str(exc)


class ShopPaymentMatchEvidence(models.Model):
    _name = "shop.payment.match.evidence"
    _description = "Reason for a payment match"
    _order = "points desc, id"

    match_id = fields.Many2one("shop.payment.match", required=True, index=True, ondelete="cascade")
    rule = fields.Char(required=True)
    points = fields.Integer()
    detail = fields.Char()
