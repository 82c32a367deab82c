from odoo import api, fields, models
from odoo.fields import Domain

# most significant first: the status a document shows when recipients differ
TRACKING_STATUSES = [
    ("bounced", "Bounced"),
    ("error", "Not sent"),
    ("deferred", "Deferred"),
    ("clicked", "Clicked"),
    ("opened", "Opened"),
    ("delivered", "Delivered"),
    ("sent", "Sent"),
]
STATUS_PRIORITY = [key for key, _label in TRACKING_STATUSES]


class CrmShopMailTracking(models.Model):
    """What became of one outgoing mail (mail.mail), with one line per recipient.

    Created when Odoo has handed the mail to the SMTP relay (see ``mail.mail``); the
    mail.mail itself is usually deleted after sending, so its id is kept as a plain
    integer and the mail is found again by its Message-ID when a bounce comes back.
    """

    _name = "crm.shop.mail.tracking"
    _description = "Outgoing mail delivery tracking"
    _order = "sent_date desc, id desc"
    _rec_name = "subject"

    mail_mail_id = fields.Integer(string="Outgoing mail ID", readonly=True, required=True)
    mail_message_id = fields.Many2one(
        "mail.message", string="Message", readonly=True, ondelete="set null", index=True
    )
    message_id = fields.Char(string="Message-ID", readonly=True, index="btree_not_null")
    model = fields.Char(string="Document model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Document ID", model_field="model", readonly=True)
    template_id = fields.Many2one("mail.template", readonly=True, ondelete="set null", index=True)
    subject = fields.Char(readonly=True)
    email_from = fields.Char(string="From", readonly=True)
    sent_date = fields.Datetime(string="Sent on", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    line_ids = fields.One2many("crm.shop.mail.tracking.line", "tracking_id", readonly=True)
    status = fields.Selection(
        TRACKING_STATUSES, compute="_compute_status", store=True, readonly=True, index=True
    )

    _mail_mail_uniq = models.UniqueIndex("(mail_mail_id)")

    @api.depends("line_ids.status")
    def _compute_status(self):
        for tracking in self:
            tracking.status = _most_significant(tracking.line_ids.mapped("status"))

    def _compute_display_name(self):
        for tracking in self:
            tracking.display_name = tracking.subject or tracking.message_id or str(tracking.id)

    def action_open_document(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    @api.model
    def _for_documents(self, model, res_ids):
        """The latest tracking per document id of ``model`` (dict res_id -> tracking)."""
        latest = {}
        domain = Domain("model", "=", model) & Domain("res_id", "in", list(res_ids))
        for tracking in self.search(domain, order="sent_date desc, id desc"):
            latest.setdefault(tracking.res_id, tracking)
        return latest


def _most_significant(statuses):
    found = [status for status in STATUS_PRIORITY if status in statuses]
    return found[0] if found else False
