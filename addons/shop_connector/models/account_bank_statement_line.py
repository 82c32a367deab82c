from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.payments import KINDS, BankTransaction

KIND_LABELS = {
    "payment": "Payment",
    "fee": "Fee",
    "refund": "Refund",
    "reversal": "Reversal",
    "conversion": "Currency conversion",
    "transfer": "Transfer",
}


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    shop_payment_account_id = fields.Many2one(
        "shop.payment.account", string="Payment account", readonly=True, index="btree_not_null"
    )
    shop_transaction_key = fields.Char(string="Transaction key", readonly=True, copy=False)
    shop_transaction_kind = fields.Selection(
        [(kind, KIND_LABELS[kind]) for kind in KINDS], string="Movement kind", readonly=True
    )
    shop_related_key = fields.Char(string="Belongs to", readonly=True)
    shop_payer_email = fields.Char(string="Payer e-mail", readonly=True)
    shop_end_to_end_id = fields.Char(string="End-to-end reference", readonly=True)
    shop_raw = fields.Text(string="Original movement", readonly=True)
    shop_match_ids = fields.One2many("shop.payment.match", "statement_line_id", string="Matches")
    shop_case_id = fields.Many2one(
        "crm.shop.case", string="Unmatched payment case", readonly=True, copy=False
    )
    shop_match_reason = fields.Char(
        string="Why no automatic match", readonly=True, help="Set by the matcher."
    )

    _shop_transaction_key_uniq = models.UniqueIndex(
        "(journal_id, shop_transaction_key) WHERE shop_transaction_key IS NOT NULL",
        "This movement was already imported into this journal.",
    )

    @api.model
    def _shop_prepare_line_vals(self, account, txn):
        """Statement line values of a :class:`BankTransaction` on ``account``."""
        journal = account.journal_id
        journal_currency = journal.currency_id or journal.company_id.currency_id
        vals = {
            "journal_id": journal.id,
            "date": txn.booking_date,
            "payment_ref": txn.purpose or txn.counterparty_name or txn.key,
            "amount": float(txn.amount),
            "partner_name": txn.counterparty_name or False,
            "account_number": txn.counterparty_iban or False,
            "shop_payment_account_id": account.id,
            "shop_transaction_key": txn.key,
            "shop_transaction_kind": txn.kind,
            "shop_related_key": txn.related_key or False,
            "shop_payer_email": txn.counterparty_email or False,
            "shop_end_to_end_id": txn.end_to_end_id or False,
            "shop_raw": txn.raw or False,
        }
        currency = self.env["res.currency"].search([("name", "=", txn.currency)], limit=1)
        if currency and currency != journal_currency:
            vals["foreign_currency_id"] = currency.id
            vals["amount_currency"] = float(txn.amount)
            vals["amount"] = currency._convert(
                float(txn.amount), journal_currency, journal.company_id, txn.booking_date
            )
        return vals

    @api.private
    def _shop_to_transaction(self):
        """The stored movement as the matcher's :class:`BankTransaction`."""
        self.ensure_one()
        currency = self.foreign_currency_id or self.currency_id
        amount = self.amount_currency if self.foreign_currency_id else self.amount
        return BankTransaction(
            key=self.shop_transaction_key or f"odoo:{self.id}",
            account=self.shop_payment_account_id.account_identifier or "",
            booking_date=self.date,
            value_date=None,
            amount=Decimal(str(amount)).quantize(Decimal("0.01")),
            currency=currency.name,
            counterparty_name=self.partner_name or "",
            counterparty_iban=self.account_number or "",
            counterparty_email=self.shop_payer_email or "",
            purpose=self.payment_ref or "",
            end_to_end_id=self.shop_end_to_end_id or "",
            kind=self.shop_transaction_kind or "payment",
            related_key=self.shop_related_key or "",
        )

    @api.private
    def _shop_match(self):
        """Propose matches for these lines (see ``shop.payment.match``)."""
        return self.env["shop.payment.match"]._match_statement_lines(self)

    @api.private
    def _shop_check_bookable(self):
        """Refuse what the payment queue does not book (left to Accounting, with the reason)."""
        self.ensure_one()
        if self.amount <= 0:
            raise UserError(
                self.env._(
                    "Outgoing money is reconciled in Accounting, not from the payment queue."
                )
            )
        company_currency = self.company_id.currency_id
        if self.journal_id.currency_id and self.journal_id.currency_id != company_currency:
            raise UserError(
                self.env._(
                    "Journal %(journal)s keeps another currency than the company's: reconcile "
                    "its movements in Accounting.",
                    journal=self.journal_id.name,
                )
            )

    def _shop_counterpart_vals(self, account, partner, balance, currency, name=None):
        """A counterpart line of ``balance`` (company currency) expressed in ``currency``.

        ``currency`` is the company's (amount = balance) or the movement's foreign currency
        (its share of the foreign amount); any other pairing is left to a person.
        """
        company_currency = self.company_id.currency_id
        if currency == company_currency:
            amount_currency = balance
        elif currency == self.foreign_currency_id and self.amount:
            amount_currency = currency.round(balance * self.amount_currency / self.amount)
        else:
            raise UserError(
                self.env._(
                    "Paid in %(paid)s for an amount due in %(due)s: reconcile it in Accounting.",
                    paid=(self.foreign_currency_id or self.currency_id).name,
                    due=currency.name,
                )
            )
        return {
            "account_id": account.id,
            "partner_id": partner.id,
            "balance": balance,
            "amount_currency": amount_currency,
            "currency_id": currency.id,
            "name": name or self.payment_ref,
        }

    def _shop_suspense_line(self):
        _liquidity, suspense, _other = self._seek_for_lines()
        if len(suspense) != 1:
            raise UserError(
                self.env._("Movement %s is already (partly) reconciled.", self.payment_ref)
            )
        return suspense

    def _shop_writeoff_commands(self, partner, writeoff):
        """Commands adding the write-off line of ``writeoff`` = (account, paid - due)."""
        if not writeoff:
            return []
        account, difference = writeoff
        currency = self.company_id.currency_id
        name = self.env._("Write-off: %s", self.payment_ref)
        return [
            fields.Command.create(
                self._shop_counterpart_vals(account, partner, -difference, currency, name)
            )
        ]

    @api.private
    def _shop_reconcile_invoices(self, invoices, writeoff=None):
        """Replace the suspense line by receivable lines and reconcile them with ``invoices``.

        One receivable line per invoice: each invoice gets what it is due, the last one
        the rest (less: a partial payment; more: an open credit of the customer).
        ``writeoff`` = (account, difference): the difference (paid - due, company currency)
        goes to that account instead, so the invoices get exactly what they are due.
        """
        self.ensure_one()
        self._shop_check_bookable()
        receivables = invoices.line_ids.filtered(
            lambda aml: aml.account_type == "asset_receivable" and not aml.reconciled
        )
        if not receivables:
            raise UserError(self.env._("The chosen invoices have nothing left to pay."))
        partner = receivables.partner_id.commercial_partner_id[:1]
        if self.partner_id != partner:
            self.partner_id = partner
        suspense = self._shop_suspense_line()
        remaining = -suspense.balance - (writeoff[1] if writeoff else 0.0)
        commands = []
        for position, receivable in enumerate(receivables):
            last = position == len(receivables) - 1
            part = remaining if last else min(receivable.amount_residual, remaining)
            remaining -= part
            vals = self._shop_counterpart_vals(
                receivable.account_id, partner, -part, receivable.currency_id
            )
            if position == 0:
                commands.append(fields.Command.update(suspense.id, vals))
            else:
                commands.append(fields.Command.create(vals))
        commands += self._shop_writeoff_commands(partner, writeoff)
        self.move_id.with_context(skip_readonly_check=True).write({"line_ids": commands})
        _liquidity, _suspense, others = self._seek_for_lines()
        for receivable in receivables:
            counterpart = others.filtered(
                lambda aml, rec=receivable: aml.account_id == rec.account_id and not aml.reconciled
            )[:1]
            (counterpart + receivable).reconcile()

    @api.private
    def _shop_book_to_receivable(self, partner, currency=None, writeoff=None):
        """Book the movement on ``partner``'s receivable (an open credit until invoiced).

        ``currency``: the order's (the receivable line is expressed in it); ``writeoff``
        as for :meth:`_shop_reconcile_invoices`.
        """
        self.ensure_one()
        self._shop_check_bookable()
        if self.partner_id != partner:
            self.partner_id = partner
        suspense = self._shop_suspense_line()
        account = partner.with_company(self.company_id).property_account_receivable_id
        balance = suspense.balance + (writeoff[1] if writeoff else 0.0)
        vals = self._shop_counterpart_vals(
            account, partner, balance, currency or self.company_id.currency_id
        )
        commands = [fields.Command.update(suspense.id, vals)]
        commands += self._shop_writeoff_commands(partner, writeoff)
        self.move_id.with_context(skip_readonly_check=True).write({"line_ids": commands})
