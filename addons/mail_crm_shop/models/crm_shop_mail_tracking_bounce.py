from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.fields import Domain

from .crm_shop_case import CLOSED_STATES
from .mail_mail import _refusal_vals

UNMATCHED_BOUNCE_DAYS = 30


class CrmShopMailTracking(models.Model):
    _inherit = "crm.shop.mail.tracking"  # pylint: disable=consider-merging-classes-inherited

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
