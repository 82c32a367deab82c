from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import email_normalize, is_html_empty

PARTNER_CLEARED = ("email", "phone", "street", "street2", "zip", "city")
# fields of cases and contacts whose tracked old values are personal data
TRACKED_PERSONAL_FIELDS = ("name", "email", "email_from", "phone", "partner_id", "street", "city")
RESULT_FIELDS = {"state", "done_by_id", "done_date", "entry_ids", "entry_count", "case_count"}


class CrmShopGdprRequest(models.Model):
    """A data subject's erasure request (Art. 17 GDPR) against the shop's retention duties.

    Personal data outside retained documents is pseudonymised at once: the contact's
    name, e-mail, phone and address, the texts of their cases, the chatter copies of the
    mails and notes on those cases and on the contact (sender address, author, text, the
    tracked old values), their phone notes (caller, number, text) and the recipient
    address in the delivery tracking. Archived mails must be
    kept (§147 AO overrides erasure, Art. 17(3)(b) GDPR): they stay untouched but are
    blocked (Art. 18) - hidden from archive members' normal use, still verified and
    exported for a tax audit - until their retention ends and they are deleted.
    """

    _name = "crm.shop.gdpr.request"
    _description = "GDPR erasure request"
    _inherit = ["mail.thread"]
    _order = "id desc"

    partner_id = fields.Many2one("res.partner", string="Contact")
    email = fields.Char(string="E-mail", required=True)
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    done_by_id = fields.Many2one("res.users", readonly=True)
    done_date = fields.Datetime(readonly=True)
    entry_ids = fields.Many2many(
        "crm.shop.archive.entry",
        "crm_shop_gdpr_request_archive_entry_rel",
        "request_id",
        "entry_id",
        string="Blocked archived mails",
        readonly=True,
    )
    entry_count = fields.Integer(string="Blocked mails", readonly=True)
    case_count = fields.Integer(string="Pseudonymised cases", readonly=True)

    def write(self, vals):
        internal = self.env.context.get("crm_shop_gdpr_internal")
        if not internal and (RESULT_FIELDS & set(vals) or any(r.state != "draft" for r in self)):
            raise UserError(self.env._("A carried out GDPR request cannot be changed."))
        return super().write(vals)

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        if self.partner_id.email:
            self.email = self.partner_id.email

    def action_execute(self):
        self.env["crm.shop.archive.entry"]._check_archive_access()
        for request in self:
            if request.state != "draft":
                raise UserError(self.env._("This request has already been carried out."))
            email = email_normalize(request.email)
            if not email:
                raise UserError(self.env._("%s is not a valid e-mail address.", request.email))
            request._execute(email)

    def _execute(self, email):
        partners = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("email_normalized", "=", email)])
            | self.partner_id.sudo()
        )
        cases = (
            self.env["crm.shop.case"]
            .sudo()
            .with_context(active_test=False)
            .search(
                Domain("partner_id", "in", partners.ids) | Domain("email_from", "=ilike", email)
            )
        )
        pseudonym = self.env._("Pseudonymised %s", self.id)
        cases.with_context(tracking_disable=True).write(
            {"name": pseudonym, "email_from": False, "description": False}
        )
        partners.with_context(tracking_disable=True).write(
            {"name": pseudonym, **dict.fromkeys(PARTNER_CLEARED, False)}
        )
        self._pseudonymise_copies(email, partners, cases, pseudonym)
        entries = (
            self.env["crm.shop.archive.entry"]
            .sudo()
            .search(Domain("sender", "ilike", email) | Domain("recipients", "ilike", email))
        )
        self.with_context(crm_shop_gdpr_internal=True).write(
            {
                "state": "done",
                "done_by_id": self.env.uid,
                "done_date": fields.Datetime.now(),
                "partner_id": partners[:1].id,
                "email": pseudonym,
                "entry_ids": [fields.Command.set(entries.ids)],
                "entry_count": len(entries),
                "case_count": len(cases),
            }
        )

    def _pseudonymise_copies(self, email, partners, cases, pseudonym):
        """Chatter copies, phone notes and delivery tracking: not retained documents.

        The archived originals stay untouched (blocked); these working copies of the same
        mails and calls are pseudonymised like the case itself.
        """
        Message = self.env["mail.message"].sudo().with_context(active_test=False)
        messages = Message.search(
            (Domain("model", "=", "crm.shop.case") & Domain("res_id", "in", cases.ids))
            | (Domain("model", "=", "res.partner") & Domain("res_id", "in", partners.ids))
            | Domain("author_id", "in", partners.ids)
            | Domain("email_from", "=ilike", email)
            | Domain("email_from", "=ilike", f"%<{email}>")
        )
        text = Markup("<p>%s</p>") % pseudonym
        messages.filtered(lambda m: not is_html_empty(m.body)).write({"body": text})
        messages.filtered("subject").write({"subject": False})
        messages.filtered(
            lambda m: m.author_id in partners or email_normalize(m.email_from) == email
        ).write({"author_id": False, "email_from": pseudonym})
        values = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "in", messages.ids),
                    ("field_id.name", "in", list(TRACKED_PERSONAL_FIELDS)),
                ]
            )
        )
        for column in ("old_value_char", "new_value_char", "old_value_text", "new_value_text"):
            values.filtered(column).write({column: pseudonym})
        notes = self.env["crm.shop.phone.note"].sudo().search([("case_id", "in", cases.ids)])
        notes.write({"caller": pseudonym, "phone": False, "note": pseudonym})
        self.env["crm.shop.mail.tracking.line"].sudo().search(
            Domain("email", "=", email) | Domain("partner_id", "in", partners.ids)
        ).write({"email": pseudonym})
