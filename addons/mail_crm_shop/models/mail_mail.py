import re

from odoo import api, fields, models, tools

# how smtplib's SMTPRecipientsRefused reads once Odoo turned it into a failure reason:
# "SMTPRecipientsRefused: {'a@example.com': (550, b'5.1.1 User unknown')}"
_REFUSED = re.compile(r"""'([^'\s]+@[^'\s]+)':\s*\((\d{3}),\s*b?(['"])(.*?)\3\)""")
_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


class MailMail(models.Model):
    """Track every outgoing mail per recipient (see ``crm.shop.mail.tracking``).

    What is captured, precisely:

    * recipients the SMTP session accepted -> ``delivered`` (Odoo reports them in
      ``success_pids`` / ``success_emails`` of ``_postprocess_sent_message``);
    * a mail all of whose recipients the relay refused raises ``SMTPRecipientsRefused``;
      Odoo keeps its text as ``failure_reason``: the refused addresses with a 5xx code
      become ``bounced`` (hard), with a 4xx code ``deferred``;
    * partial refusals (some recipients of one SMTP transaction refused) are hidden by
      ``ir.mail_server.send_email``, which drops smtplib's refused dict: ``_send`` wraps
      the SMTP session to read that dict and corrects the lines afterwards;
    * any other failure (no valid address, connection lost, message refused as a
      whole) -> ``error`` with Odoo's failure reason, for recipients not accepted.

    Mails of a template with ``crm_shop_track_opens`` get an open pixel and their links go
    through Odoo's link tracker (``/r/<code>``); each recipient's copy carries a signed
    recipient token (``/r/<code>/c/<token>``) so a click lands on their tracking line.
    """

    _inherit = "mail.mail"

    crm_shop_template_id = fields.Many2one(
        "mail.template", string="Template (tracking)", readonly=True, ondelete="set null"
    )

    @api.model_create_multi
    def create(self, vals_list):
        template_id = self.env.context.get("crm_shop_template_id")
        if template_id:
            for vals in vals_list:
                vals.setdefault("crm_shop_template_id", template_id)
        mails = super().create(vals_list)
        self.env["crm.shop.sent.mail"]._shop_take_references(mails)
        return mails

    def _prepare_outgoing_body(self):
        body = super()._prepare_outgoing_body()
        if body and self.crm_shop_template_id.crm_shop_track_opens:
            Tracking = self.env["crm.shop.mail.tracking"].sudo()
            body = Tracking._shorten_links(body, self.get_base_url())
            token = Tracking._open_token(self.id)
            url = f"{self.get_base_url()}/crm_shop/track/open/{token}.png"
            body = tools.mail.append_content_to_html(
                body, f'<img src="{url}" alt="" width="1" height="1"/>', plaintext=False
            )
        return body

    def _personalize_outgoing_body(self, body, partner=False, doc_to_followers=None):
        """Tracked links name the recipient of each copy (clicks per tracking line)."""
        body = super()._personalize_outgoing_body(
            body, partner=partner, doc_to_followers=doc_to_followers
        )
        if body and self.crm_shop_template_id.crm_shop_track_opens:
            Tracking = self.env["crm.shop.mail.tracking"].sudo()
            body = Tracking._personalize_links(body, self.id, partner)
        return body

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, **kwargs):
        recorder = _RefusalRecorder(smtp_session) if smtp_session is not None else None
        result = super()._send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            smtp_session=recorder or smtp_session,
            **kwargs,
        )
        if recorder and recorder.refused:
            self.env["crm.shop.mail.tracking"].sudo()._apply_partial_refusals(recorder.refused)
        return result

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        for mail in self:
            mail._crm_shop_track(success_pids, success_emails, failure_reason)
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )

    def _crm_shop_track(self, success_pids, success_emails, failure_reason):
        """Create or update the tracking of this mail from the outcome of one send."""
        recipients = self._crm_shop_recipients()
        if not recipients:
            return
        Tracking = self.env["crm.shop.mail.tracking"].sudo()
        tracking = Tracking.search([("mail_mail_id", "=", self.id)], limit=1)
        if not tracking:
            tracking = Tracking.create(self._prepare_crm_shop_tracking_vals())
        elif self.message_id:
            tracking.message_id = self.message_id
        now = fields.Datetime.now()
        accepted = {tools.email_normalize(e) for e in success_emails or []}
        # Odoo passes partner records (older versions: ids)
        accepted_pids = {getattr(p, "id", p) for p in success_pids or []}
        failure_reason = failure_reason or self.failure_reason
        refused = _parse_refused(failure_reason or "")
        existing = {(line.partner_id.id, line.email): line for line in tracking.line_ids}
        for partner, email in recipients:
            if partner.id in accepted_pids or (not partner and email in accepted):
                vals = {"status": "delivered", "bounce_reason": False}
            elif email in refused:
                vals = _refusal_vals(*refused[email])
            else:
                vals = {"status": "error", "bounce_reason": failure_reason or False}
            vals["status_date"] = now
            line = existing.get((partner.id, email))
            if line:
                line.write(vals)
            else:
                tracking.line_ids = [
                    fields.Command.create({"partner_id": partner.id, "email": email, **vals})
                ]

    def _crm_shop_recipients(self):
        """(partner, normalized address) of every recipient of this mail."""
        no_partner = self.env["res.partner"]
        recipients = [
            (p, p.email_normalized or p.email or p.display_name) for p in self.recipient_ids
        ]
        for text in (self.email_to, self.email_cc):
            addresses = tools.email_split(text or "")
            if text and text.strip() and not addresses:  # unusable address: recorded too
                recipients.append((no_partner, text.strip()))
            recipients += [(no_partner, tools.email_normalize(a) or a) for a in addresses]
        return recipients

    def _prepare_crm_shop_tracking_vals(self):
        return {
            "mail_mail_id": self.id,
            "mail_message_id": self.mail_message_id.id,
            "message_id": self.message_id,
            "model": self.model or False,
            "res_id": self.res_id or False,
            "template_id": self.crm_shop_template_id.id,
            "subject": self.subject,
            "email_from": self.email_from,
            "sent_date": fields.Datetime.now(),
            "company_id": self.env.company.id,
        }


class _RefusalRecorder:
    """An SMTP session that remembers what ``send_message`` says it refused."""

    def __init__(self, session):
        self._session = session
        self.refused = {}

    def send_message(self, message, *args, **kwargs):
        refused = self._session.send_message(message, *args, **kwargs)
        if isinstance(refused, dict) and refused:
            self.refused[message["Message-Id"]] = refused
        return refused

    def __getattr__(self, name):
        return getattr(self._session, name)


def _parse_refused(reason):
    """{address: (code, text)} named in an SMTPRecipientsRefused failure reason."""
    return {
        tools.email_normalize(address) or address: (int(code), text)
        for address, code, _quote, text in _REFUSED.findall(reason)
    }


def _refusal_vals(code, text):
    """Line values for a recipient the relay refused with SMTP ``code``."""
    enhanced = _ENHANCED.search(text or "")
    hard = code >= 500
    return {
        "status": "bounced" if hard else "deferred",
        "bounce_type": "hard" if hard else False,
        "dsn_status": enhanced.group(1) if enhanced else f"{code // 100}.0.0",
        "bounce_reason": f"{code} {text}".strip(),
    }
