import base64

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..services.bank_csv import parse_bank_csv
from ..services.camt import parse_camt053


class ShopPaymentImportWizard(models.TransientModel):
    """Upload a CAMT.053 statement or a bank CSV export into a payment account."""

    _name = "shop.payment.import.wizard"
    _description = "Import a bank statement"

    payment_account_id = fields.Many2one(
        "shop.payment.account",
        string="Bank account",
        required=True,
        domain=[("kind", "=", "bank")],
    )
    file_format = fields.Selection(
        [("camt", "CAMT.053 (XML)"), ("csv", "CSV export")], required=True, default="camt"
    )
    data_file = fields.Binary(string="File", required=True)
    filename = fields.Char()
    result = fields.Text(readonly=True)

    def action_import(self):
        """Store the new movements, match them and say how many were already imported."""
        self.ensure_one()
        data = base64.b64decode(self.data_file or b"")
        account = self.payment_account_id
        try:
            batches, notes = self._read(data, account)
        except PermanentError as exc:
            raise UserError(self.env._("The file cannot be imported: %s", exc)) from exc
        new_lines = self.env["account.bank.statement.line"]
        known = 0
        for name, transactions in batches:
            lines, already = account._import_transactions(transactions, name)
            new_lines |= lines
            known += already
        matches = new_lines._shop_match()
        summary = self.env._(
            "%(new)s new, %(known)s already imported, %(proposed)s match proposals.",
            new=len(new_lines),
            known=known,
            proposed=len(matches),
        )
        self.result = "\n".join([summary, *notes])
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _read(self, data, account):
        """``[(statement name, transactions)]`` and notes on what was left out."""
        name = self.filename or self.env._("Bank statement")
        if self.file_format == "csv":
            parsed = parse_bank_csv(
                data, account._get_csv_mapping(), account.account_identifier or ""
            )
            notes = [
                self.env._("Line %(line)s not imported: %(why)s", line=err.line, why=err.message)
                for err in parsed.errors
            ]
            return [(name, parsed.transactions)], notes
        batches, notes = [], []
        for statement in parse_camt053(data):
            own = (account.account_identifier or "").replace(" ", "").upper()
            if own and statement.account_iban.replace(" ", "").upper() != own:
                raise UserError(
                    self.env._(
                        "The statement is for account %(theirs)s, not %(ours)s.",
                        theirs=statement.account_iban,
                        ours=account.account_identifier,
                    )
                )
            batches.append((statement.statement_id or name, statement.transactions))
            notes += [self.env._("Not imported: %s", skipped) for skipped in statement.skipped]
        return batches, notes
