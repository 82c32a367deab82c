import html
import re
from datetime import timedelta
from urllib.parse import urlencode

from odoo import api, fields, models, tools
from odoo.fields import Domain

from .mail_mail import _refusal_vals

_HREF = re.compile(r'(<a\b[^>]*?\bhref=)"(https?://[^"]+)"', re.IGNORECASE)
UNMATCHED_BOUNCE_DAYS = 30

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
    def _open_token(self, mail_mail_id):
        """Signed token of the open pixel: ``<mail id>-<hmac>``."""
        signature = tools.hmac(self.env(su=True), "crm_shop_track_open", mail_mail_id)
        return f"{mail_mail_id}-{signature}"

    @api.model
    def _from_open_token(self, token):
        """The tracking the pixel ``token`` was made for, or an empty recordset."""
        mail_id, _sep, signature = (token or "").partition("-")
        if not mail_id.isdigit() or not signature:
            return self.browse()
        expected = tools.hmac(self.env(su=True), "crm_shop_track_open", int(mail_id))
        if not tools.consteq(expected, signature):
            return self.browse()
        return self.search([("mail_mail_id", "=", int(mail_id))], limit=1)

    @api.private
    def _record_opened(self, when):
        """The recipient's mail client loaded the pixel: delivered/sent lines become opened."""
        lines = self.line_ids.filtered(lambda line: line.status in ("sent", "delivered"))
        lines.write({"status": "opened", "status_date": when})
        self.line_ids.filtered(lambda line: not line.opened_date).write({"opened_date": when})

    @api.model
    def _click_token(self, mail_mail_id, url):
        signature = tools.hmac(self.env(su=True), "crm_shop_track_click", (mail_mail_id, url))
        return f"{mail_mail_id}-{signature}"

    @api.model
    def _from_click_token(self, token, url):
        """The tracking a tracked link was made for, or empty if the signature is wrong."""
        mail_id, _sep, _signature = (token or "").partition("-")
        if not mail_id.isdigit() or not tools.consteq(
            self._click_token(int(mail_id), url or ""), token
        ):
            return self.browse()
        return self.search([("mail_mail_id", "=", int(mail_id))], limit=1)

    @api.model
    def _add_click_tracking(self, body, mail_mail_id, base_url):
        """Route every http(s) link of ``body`` through the signed click redirect."""

        def tracked(match):
            url = html.unescape(match.group(2))
            token = self._click_token(mail_mail_id, url)
            query = urlencode({"url": url})
            target = html.escape(f"{base_url}/crm_shop/track/click/{token}?{query}")
            return f'{match.group(1)}"{target}"'

        return body.__class__(_HREF.sub(tracked, body))

    @api.private
    def _record_clicked(self, when):
        lines = self.line_ids.filtered(lambda line: line.status in ("sent", "delivered", "opened"))
        lines.write({"status": "clicked", "status_date": when})
        self.line_ids.filtered(lambda line: not line.opened_date).write({"opened_date": when})
        self.line_ids.filtered(lambda line: not line.clicked_date).write({"clicked_date": when})

    @api.model
    def _apply_partial_refusals(self, refused_by_message_id):
        """Recipients refused inside an otherwise accepted SMTP transaction."""
        for message_id, refused in refused_by_message_id.items():
            tracking = self.search([("message_id", "=", message_id)], limit=1)
            for address, (code, text) in refused.items():
                email = tools.email_normalize(address) or address
                text = text.decode(errors="replace") if isinstance(text, bytes) else text
                lines = tracking.line_ids.filtered(lambda line, email=email: line.email == email)
                lines.write({**_refusal_vals(code, text), "status_date": fields.Datetime.now()})

    @api.model
    def _match_dsn_lines(self, dsn, now):
        """The tracking lines a bounce (services.dsn.Dsn) reports on.

        By the original Message-ID and the recipient; a bounce that does not quote the
        original Message-ID matches the latest mail to that recipient of the last
        UNMATCHED_BOUNCE_DAYS days.
        """
        Line = self.env["crm.shop.mail.tracking.line"]
        emails = {
            tools.email_normalize(a) or a.lower()
            for a in (dsn.final_recipient, dsn.original_recipient)
            if a
        }
        domain = Domain("email", "in", list(emails))
        if dsn.original_message_id:
            domain &= Domain("tracking_id.message_id", "=", dsn.original_message_id)
            return Line.search(domain)
        domain &= Domain("sent_date", ">=", now - timedelta(days=UNMATCHED_BOUNCE_DAYS))
        return Line.search(domain, order="sent_date desc, id desc", limit=1)

    @api.private
    def _schedule_bounce_activity(self, line):
        """Ask the document's responsible to fix the address and send the mail again."""
        self.ensure_one()
        if not self.model or not self.res_id or self.model not in self.env:
            return
        document = self.env[self.model].browse(self.res_id).exists()
        if not document or not hasattr(document, "activity_schedule"):
            return
        user = document["user_id"] if "user_id" in document._fields else False
        if "invoice_user_id" in document._fields and document.invoice_user_id:
            user = document.invoice_user_id
        document.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Mail bounced: fix the address, resend"),
            note=self.env._(
                "The mail %(subject)s to %(email)s bounced: %(reason)s",
                subject=self.subject or "",
                email=line.email,
                reason=line.bounce_reason or line.dsn_status or "",
            ),
            user_id=(user or self.env.user).id,
        )

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
