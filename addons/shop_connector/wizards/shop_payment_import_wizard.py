import base64

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.mail_crm_shop.services.errors import PermanentError


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
        try:
            new_lines, known, notes = self.payment_account_id._import_statement_file(
                data, self.file_format, self.filename
            )
        except PermanentError as exc:
            raise UserError(self.env._("The file cannot be imported: %s", exc)) from exc
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
