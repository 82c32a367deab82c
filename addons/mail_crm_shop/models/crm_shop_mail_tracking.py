import re
from datetime import timedelta

import lxml.html
from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.fields import Domain

from odoo.addons.link_tracker.tools.html import find_links_with_urls_and_labels

from .crm_shop_case import CLOSED_STATES
from .mail_mail import _refusal_vals

UNMATCHED_BOUNCE_DAYS = 30
# links left as they are: unsubscribing must work without the tracker
LINK_SKIP_LIST = ("/unsubscribe_from_list", "/mail/unfollow", "/mail/unsubscribe")

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

    # --- clicks through Odoo's link tracker ------------------------------------------

    @api.model
    def _shorten_links(self, body, base_url):
        """Route the http(s) links of ``body`` through Odoo's link tracker (``/r/<code>``).

        As ``mail.render.mixin._shorten_links`` but the tracker's title is the URL itself:
        sending a mail never fetches the linked pages.
        """
        if not body or tools.is_html_empty(body):
            return body
        root = lxml.html.fromstring(str(body))
        nodes, links = find_links_with_urls_and_labels(
            root,
            base_url,
            skip_regex=r"^(?!https?://)",
            skip_prefix=f"{self.env['link.tracker'].get_base_url()}/r/",
            skip_list=LINK_SKIP_LIST,
        )
        if not nodes:
            return body
        trackers = (
            self.env["link.tracker"]
            .sudo()
            .search_or_create([{**link, "title": link["url"]} for link in links])
        )
        for node, tracker in zip(nodes, trackers, strict=True):
            node.set("href", tracker.short_url)
        return body.__class__(lxml.html.tostring(root, encoding="unicode", method="xml"))

    @api.model
    def _personalize_links(self, body, mail_mail_id, partner):
        """Give every link-tracker link of ``body`` the recipient: ``/r/<code>/c/<token>``.

        ``partner`` is the recipient of this copy; a copy for the plain addresses of the
        mail (no partner) carries 0 and counts for each of them.
        """
        token = self._link_token(mail_mail_id, partner.id if partner else 0)
        short = re.escape(f"{self.env['link.tracker'].get_base_url()}/r/")
        pattern = re.compile(rf"""(href=["'])({short}[A-Za-z0-9]+)(["'])""")
        return body.__class__(pattern.sub(rf"\1\2/c/{token}\3", str(body)))

    @api.model
    def _link_token(self, mail_mail_id, partner_id):
        """Signed recipient of a tracked link: ``<mail id>-<partner id or 0>-<hmac>``."""
        signature = tools.hmac(
            self.env(su=True), "crm_shop_link_click", (int(mail_mail_id), int(partner_id))
        )
        return f"{mail_mail_id}-{partner_id}-{signature}"

    @api.model
    def _line_from_link_token(self, token):
        """The tracking line (first one for plain addresses) a link token names, if any."""
        parts = (token or "").split("-", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return self.env["crm.shop.mail.tracking.line"]
        mail_id, partner_id = int(parts[0]), int(parts[1])
        if not tools.consteq(self._link_token(mail_id, partner_id), token):
            return self.env["crm.shop.mail.tracking.line"]
        tracking = self.search([("mail_mail_id", "=", mail_id)], limit=1)
        lines = tracking.line_ids.filtered(lambda line: line.partner_id.id == (partner_id or False))
        return lines[:1]

    # --- clicks through the signed redirect of mails sent before the link tracker ----

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
        self._open_bounce_case(document, line)

    def _open_bounce_case(self, document, line):
        """One open team inbox case per document and bounced address: fix it, resend."""
        self.ensure_one()
        order = _sale_order_of(document)
        reason = self.env._(
            "The mail %(subject)s to %(email)s bounced: %(reason)s",
            subject=self.subject or "",
            email=line.email,
            reason=line.bounce_reason or line.dsn_status or "",
        )
        known = self._open_bounce_case_of(order, line.email)
        if known:
            line.bounce_case_id = known
            known.message_post(body=reason, subtype_xmlid="mail.mt_note")
            return known
        case = (
            self.env["crm.shop.case"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "%(document)s: mail to %(email)s bounced, fix the address and resend",
                        document=document.display_name,
                        email=line.email,
                    ),
                    "description": Markup("<p>%s</p><p>%s</p>")
                    % (reason, document._get_html_link(title=document.display_name)),
                    "queue_id": _bounce_queue(document, order).id,
                    "partner_id": (line.partner_id or order.partner_id).id,
                    "email_from": line.email,
                    "company_id": (self.company_id or order.company_id or self.env.company).id,
                    "sale_order_id": order.id,
                }
            )
        )
        line.bounce_case_id = case
        return case

    def _open_bounce_case_of(self, order, email):
        """The open bounce case of this mail's document (or of ``order``: its
        confirmation, delivery and invoice mails to one address share one) for ``email``."""
        same = Domain("model", "=", self.model) & Domain("tracking_id.res_id", "=", self.res_id)
        if order:
            same |= Domain("bounce_case_id.sale_order_id", "=", order.id)
        return (
            self.env["crm.shop.mail.tracking.line"]
            .search(
                same
                & Domain("email", "=", email)
                & Domain("bounce_case_id.state", "not in", list(CLOSED_STATES)),
                limit=1,
            )
            .bounce_case_id
        )

    @api.model
    def _for_documents(self, model, res_ids):
        """The latest tracking per document id of ``model`` (dict res_id -> tracking)."""
        latest = {}
        domain = Domain("model", "=", model) & Domain("res_id", "in", list(res_ids))
        for tracking in self.search(domain, order="sent_date desc, id desc"):
            latest.setdefault(tracking.res_id, tracking)
        return latest


def _sale_order_of(document):
    """The order a bounced mail was about: the document, or the order it came from."""
    if document._name == "sale.order":
        return document
    if document._name == "account.move":
        return document.sudo().invoice_line_ids.sale_line_ids.order_id[:1]
    if "sale_id" in document._fields:
        return document.sudo().sale_id
    if "sale_order_id" in document._fields:
        return document.sudo().sale_order_id
    return document.env["sale.order"]


def _bounce_queue(document, order):
    """The shop's exception queue of the order, else the company's default exception
    queue (owned, with service level targets)."""
    backend = order.sudo()["shop_backend_id"] if "shop_backend_id" in order._fields else False
    if backend and hasattr(backend, "_get_exception_queue"):
        queue = backend._get_exception_queue()
        if queue:
            return queue
    company = order.company_id or document.env.company
    return document.env["crm.shop.queue"].sudo()._shop_exception_queue(company)


def _most_significant(statuses):
    found = [status for status in STATUS_PRIORITY if status in statuses]
    return found[0] if found else False
