import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.matching import Candidate, MatchSettings, match_all, rf_is_valid

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
    def _match_statement_lines(self, lines):
        """Propose matches for the open movements among ``lines`` (replacing old proposals)."""
        lines = lines.filtered(lambda line: not line.is_reconciled and line.shop_transaction_key)
        if not lines:
            return self
        self.search([("statement_line_id", "in", lines.ids), ("state", "=", "proposed")]).unlink()
        matches = self
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
                settings = MatchSettings(auto_threshold=account.auto_confirm_threshold)
                transactions = [line._shop_to_transaction() for line in account_lines]
                results = match_all(transactions, candidates, known, settings, learned_names=names)
                for line, result in zip(account_lines, results, strict=True):
                    matches |= self._store_result(line, result, records, account)
        return matches

    @api.model
    def _build_candidates(self, company):
        """Open invoices and prepayment orders as matcher candidates (a few queries).

        Returns the candidates and a map candidate id -> record (orders and invoices have
        their own id sequences, the matcher needs one).
        """
        invoices = self.env["account.move"].search(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        orders = self.env["sale.order"]
        if "shop_release_state" in orders._fields:
            orders = orders.search(
                [("company_id", "=", company.id), ("shop_release_state", "=", "waiting_payment")]
            )
            # an order with an open invoice is paid through that invoice
            orders -= invoices.line_ids.sale_line_ids.order_id
        partners = (invoices.partner_id | orders.partner_id).commercial_partner_id
        partners.fetch(["name", "email", "bank_ids"])
        paid = {}
        for match in self.search(
            [("sale_order_id", "in", orders.ids), ("state", "in", ("confirmed", "auto_confirmed"))]
        ):
            paid[match.sale_order_id.id] = paid.get(match.sale_order_id.id, 0.0) + match.amount
        records, candidates = {}, []
        for record in (*orders, *invoices):
            cid = len(records) + 1
            records[cid] = record
            candidates.append(self._prepare_candidate(cid, record, paid.get(record.id, 0.0)))
        return candidates, records

    @api.model
    def _prepare_candidate(self, cid, record, paid=0.0):
        partner = record.partner_id.commercial_partner_id
        people = record.partner_id | partner
        common = {
            "id": cid,
            "partner_id": partner.id,
            "partner_names": tuple(n for n in people.mapped("name") if n),
            "partner_ibans": tuple(people.bank_ids.mapped("sanitized_acc_number")),
            "partner_emails": tuple(e for e in people.mapped("email") if e),
            "currency": record.currency_id.name,
        }
        if record._name == "sale.order":
            due = record.amount_total - paid
            return Candidate(
                kind="order",
                reference=record.name,
                amount_due=_money(due),
                date=record.date_order.date(),
                **common,
            )
        ref = record.payment_reference or ""
        return Candidate(
            kind="invoice",
            reference=record.invoice_origin or "",
            invoice_number=record.name,
            structured_ref=ref if rf_is_valid(ref) else "",
            amount_due=_money(record.amount_residual),
            date=record.invoice_date,
            **common,
        )

    def _store_result(self, line, result, records, account):
        rejected = {
            (m.sale_order_id.id, tuple(sorted(m.invoice_ids.ids)))
            for m in line.shop_match_ids.filtered(lambda m: m.state == "rejected")
        }
        pairs = [(p, self._prepare_match_vals(line, p, records)) for p in result.proposals]
        pairs = [
            (p, vals)
            for p, vals in pairs
            if (vals["sale_order_id"], tuple(sorted(vals["invoice_ids"][0][2]))) not in rejected
        ]
        matches = self.create([vals for _p, vals in pairs])
        line.shop_match_reason = result.reason or False
        auto = result.auto_confirm
        if not (auto and account.auto_confirm and auto.score >= account.auto_confirm_threshold):
            return matches
        for (proposal, _vals), match in zip(pairs, matches, strict=True):
            if proposal is auto and len(proposal.candidate_ids) == 1:
                match._auto_confirm()
        return matches

    @api.model
    def _prepare_match_vals(self, line, proposal, records):
        chosen = [records[cid] for cid in proposal.candidate_ids]
        orders = [r for r in chosen if r._name == "sale.order"]
        invoices = [r.id for r in chosen if r._name == "account.move"]
        return {
            "statement_line_id": line.id,
            "partner_id": chosen[0].partner_id.commercial_partner_id.id,
            "sale_order_id": orders[0].id if orders else False,
            "invoice_ids": [fields.Command.set(invoices)],
            "score": proposal.score,
            "needs_person": proposal.needs_person,
            "reason": proposal.reason or False,
            "evidence_ids": [
                fields.Command.create(
                    {"rule": evidence.rule, "points": evidence.points, "detail": evidence.detail}
                )
                for evidence in proposal.evidence
            ],
        }

    # --- actions ---------------------------------------------------------------

    def action_confirm(self):
        if not self.env.user.has_group("account.group_account_basic"):
            raise UserError(
                self.env._(
                    "Confirming a payment books it in accounting: ask for accounting rights "
                    "(Invoicing: Basic or more)."
                )
            )
        for match in self:
            match._confirm()
        return True

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
                self._confirm(auto=True)
        except UserError as exc:
            _logger.info("Payment match %s not confirmed automatically: %s", self.id, exc)
            self.statement_line_id.shop_match_reason = str(exc)

    @api.private
    def _confirm(self, auto=False):
        """Reconcile the movement with the invoice(s), invoicing a prepayment order first."""
        self.ensure_one()
        if self.state != "proposed":
            raise UserError(self.env._("Only a proposed match can be confirmed."))
        line = self.statement_line_id
        if line.is_reconciled:
            raise UserError(self.env._("This movement is already reconciled."))
        if line.amount <= 0 or line.foreign_currency_id:
            raise UserError(
                self.env._(
                    "Outgoing money and foreign currencies are reconciled in Accounting, "
                    "not from the payment queue."
                )
            )
        if self.invoice_ids:
            line._shop_reconcile_invoices(self.invoice_ids)
            partner = self.invoice_ids.partner_id.commercial_partner_id[:1]
        elif self.sale_order_id:
            partner = self.sale_order_id.partner_id.commercial_partner_id
            line._shop_book_to_receivable(partner)
        else:
            raise UserError(self.env._("Pick an order or an invoice first."))
        self.write({"state": "auto_confirmed" if auto else "confirmed"})
        (line.shop_match_ids - self).filtered(lambda m: m.state == "proposed").write(
            {"state": "rejected"}
        )
        self.env["shop.payer.mapping"].sudo()._learn(line, self.partner_id or partner)
        if self.sale_order_id and not self.invoice_ids:
            self._settle_order(self.sale_order_id)
        for order in self.invoice_ids.line_ids.sale_line_ids.order_id:
            if not order.invoice_ids.filtered(
                lambda m: m.state == "posted" and m.payment_state not in ("paid", "in_payment")
            ):
                self._release(order)
        return True

    def _settle_order(self, order):
        """All paid: release the order, invoice it and reconcile every payment booked on it.

        Partly paid: the payment waits on the customer's account and the order waits.
        """
        done = self.search(
            [("sale_order_id", "=", order.id), ("state", "in", ("confirmed", "auto_confirmed"))]
        )
        paid = sum(done.mapped("statement_line_id.amount"))
        if order.currency_id.compare_amounts(paid, order.amount_total) < 0:
            order.message_post(
                body=self.env._(
                    "Partial payment: %(paid)s of %(total)s received; the order waits for the "
                    "rest.",
                    paid=paid,
                    total=order.amount_total,
                ),
                subtype_xmlid="mail.mt_note",
            )
            self.reason = self.env._(
                "partial payment: %(paid)s of %(total)s", paid=paid, total=order.amount_total
            )
            return
        self._release(order)
        if order.state != "sale" or order.invoice_status != "to invoice":
            return  # not invoiceable yet: the payment stays an open credit of the customer
        invoices = order._create_invoices()
        invoices.action_post()
        credits = done.statement_line_id.move_id.line_ids.filtered(
            lambda aml: aml.account_type == "asset_receivable" and not aml.reconciled
        )
        receivables = invoices.line_ids.filtered(lambda aml: aml.account_type == "asset_receivable")
        (credits + receivables).reconcile()

    def _release(self, order):
        if hasattr(order, "action_shop_payment_received"):
            order.action_shop_payment_received()


class ShopPaymentMatchEvidence(models.Model):
    _name = "shop.payment.match.evidence"
    _description = "Reason for a payment match"
    _order = "points desc, id"

    match_id = fields.Many2one("shop.payment.match", required=True, index=True, ondelete="cascade")
    rule = fields.Char(required=True)
    points = fields.Integer()
    detail = fields.Char()


def _money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))
