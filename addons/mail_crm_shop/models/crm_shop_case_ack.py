"""Automatic acknowledgement of a case a customer's mail opened (queue option).

Decided by ``services.auto_ack``; sent as an automatic message on the case (``auto_comment``:
not a reply, so it neither stops the first-response clock nor locks the case) that answers
the customer's mail (parent message, ``In-Reply-To``/``References``), queued as
``mail.mail`` in the transaction that creates the case: a crash sends nothing, a retry of
the mail decides again, the mail queue cron sends it once. Like a reply, a sent
acknowledgement is filed in the Sent folder of the case's mailbox (``crm.shop.sent.mail``).
"""

import logging
from email.utils import formataddr

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..services import auto_ack
from ..services.mime_case_tokens import add_case_token
from .crm_shop_search_document import DEFER_KEY

_logger = logging.getLogger(__name__)

ACK_FIELDS = ("ack_reason", "ack_date", "ack_email")
ACK_LOCK_NAMESPACE = 0x4B41  # advisory lock class of the per-sender throttle
ACK_REASONS = [
    (auto_ack.SENT, "Sent"),
    (auto_ack.NO_SENDER, "Not sent: the mail has no sender address"),
    (auto_ack.INVALID_SENDER, "Not sent: the sender address is invalid"),
    (auto_ack.BOUNCE, "Not sent: the mail is a bounce"),
    (auto_ack.AUTO_REPLY, "Not sent: the mail is an automatic reply"),
    (
        auto_ack.SUPPRESSED,
        "Not sent: mailing list mail, or the sender asked for no automatic answers",
    ),
    (auto_ack.OWN_ADDRESS, "Not sent: the sender is one of our own addresses"),
    (auto_ack.SYSTEM_SENDER, "Not sent: the sender is a no-reply or mail system address"),
    (auto_ack.INTERNAL_SENDER, "Not sent: the sender is a colleague"),
    (auto_ack.THROTTLED, "Not sent: the sender got an acknowledgement shortly before"),
    (auto_ack.ERROR, "Not sent: the acknowledgement could not be created (see the chatter)"),
]


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    ack_reason = fields.Selection(
        ACK_REASONS,
        string="Acknowledgement",
        readonly=True,
        copy=False,
        help="Whether the customer got an automatic acknowledgement of this case, or why "
        "not. Empty: the queue sends none, or the case was not opened by a mail.",
    )
    ack_date = fields.Datetime(string="Acknowledgement decided on", readonly=True, copy=False)
    ack_email = fields.Char(
        string="Acknowledgement address",
        readonly=True,
        copy=False,
        help="The sender address (lower case) the acknowledgement was meant for.",
    )

    # the throttle: the last acknowledgement sent to an address, per company
    _ack_sent_idx = models.Index("(ack_email, company_id, ack_date) WHERE ack_reason = 'sent'")

    def write(self, vals):
        if not self.env.su and any(name in vals for name in ACK_FIELDS):
            raise AccessError(
                self.env._("The acknowledgement of a case is recorded by the system.")
            )
        if "email_from" in vals and not vals["email_from"]:
            vals = {**vals, "ack_email": False}  # the sender's address goes (GDPR) with it
        return super().write(vals)

    def _ack_new_case(self, sender, is_auto_reply, is_bounce, suppress_auto_response):
        """Acknowledge this case, just opened by a customer's mail, if its queue says so;
        record the decision on the case. Called once, by the mail that creates the case."""
        self.ensure_one()
        if self.ack_reason:  # decided already: exactly one acknowledgement per case
            return
        queue = self.queue_id
        address = auto_ack.normalize_address(sender)
        if address:
            # two workers opening cases of the same sender at once: the second waits for
            # the first one's commit and then sees its acknowledgement (the throttle holds)
            self.env.cr.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (ACK_LOCK_NAMESPACE, address)
            )
        now = fields.Datetime.now()
        decision = auto_ack.decide_ack(
            auto_ack.AckInput(
                sender=sender,
                is_auto_reply=is_auto_reply or self.is_auto_reply,
                is_bounce=is_bounce,
                suppress_auto_response=suppress_auto_response,
                own_addresses=self._ack_own_addresses(address) if address else (),
                last_ack_date=self._ack_last_date(address) if address else None,
                now=now,
                throttle_hours=queue.ack_throttle_hours,
                sender_is_internal=self._ack_sender_is_internal(address),
            )
        )
        reason = decision.reason
        if decision.send:
            reason = self._ack_try_send(queue._ack_template(), address)
        self.sudo().write({"ack_reason": reason, "ack_date": now, "ack_email": address or False})

    def _ack_own_addresses(self, address):
        """Our addresses ``address`` must not be: every mailbox, company and alias."""
        mailboxes = self.env["crm.shop.mailbox"].sudo().with_context(active_test=False).search([])
        own = set(mailboxes._get_own_addresses())
        companies = self.env["res.company"].sudo().search([])
        own.update(email.strip().lower() for email in companies.mapped("email") if email)
        own.update(self.env["mail.alias.domain"].sudo()._find_aliases([address]))
        return tuple(own)

    def _ack_last_date(self, address):
        """When the company last sent an acknowledgement to ``address`` (any case)."""
        last = self.sudo().search_fetch(
            Domain("ack_email", "=", address)
            & Domain("ack_reason", "=", auto_ack.SENT)
            & Domain("company_id", "=", self.company_id.id)
            & Domain("id", "!=", self.id),
            ["ack_date"],
            order="ack_date desc",
            limit=1,
        )
        return last.ack_date or None

    def _ack_sender_is_internal(self, address):
        partner = self.partner_id
        return bool(address and partner.email_normalized == address and not partner.partner_share)

    def _ack_try_send(self, template, address):
        """Send the acknowledgement; return the reason to record. A template that cannot
        be rendered must not stop the mail intake of the queue: the case is kept, the
        failure recorded on it and shown in its chatter."""
        try:
            with self.env.cr.savepoint():
                self._ack_send(template, address)
        except Exception as exc:  # noqa: BLE001 - recorded on the case, intake goes on
            _logger.warning("Case %s: acknowledgement not sent: %s", self.id, exc)
            self.sudo().message_post(
                body=self.env._("The acknowledgement could not be sent: %s", exc),
                subtype_xmlid="mail.mt_note",
            )
            return auto_ack.ERROR
        return auto_ack.SENT

    def _ack_send(self, template, address):
        """Queue the acknowledgement to ``address`` as an automatic message on the case:
        from the case's mailbox (reply address as for replies), the case token in the
        subject, in the customer's language, to the customer only (not the followers)."""
        self.ensure_one()
        if not template:
            raise UserError(self.env._("No acknowledgement template is configured."))
        case = self.sudo().with_context(**{DEFER_KEY: True})
        template = template.sudo()
        lang = template._render_lang(case.ids)[case.id] or False
        values = template._generate_template(case.ids, ("subject", "body_html", "email_from"))
        values = values[case.id]
        partner = case.partner_id if case.partner_id.email_normalized == address else None
        body = values.get("body_html") or ""
        # the answer to the customer's mail: mail clients thread it under that mail
        question = case._ack_first_message()
        threading = {"parent_id": question.id}
        if question.message_id:
            # Odoo sends References (the thread) but no In-Reply-To: name the question
            threading["mail_headers"] = {"In-Reply-To": question.message_id}
        message = case.message_post(
            body=body if isinstance(body, Markup) else Markup(body),  # rendered by QWeb
            subject=add_case_token(values.get("subject") or case.name, case.number),
            message_type="auto_comment",
            subtype_xmlid="mail.mt_comment",
            author_id=False,
            email_from=values.get("email_from") or case._ack_email_from(),
            partner_ids=partner.ids if partner else [],
            outgoing_email_to=False if partner else address,
            email_add_signature=False,
            notify_skip_followers=True,
            force_send=False,  # the mail queue sends it, after this transaction commits
            force_email_lang=lang,
            **threading,
        )
        case._ack_file_in_sent(message)
        return message

    def _ack_first_message(self):
        """The customer's mail that opened this case: its first incoming mail (one indexed
        look-up, only when an acknowledgement is sent)."""
        self.ensure_one()
        return (
            self.env["mail.message"]
            .sudo()
            .search_fetch(
                Domain("model", "=", self._name)
                & Domain("res_id", "=", self.id)
                & Domain("message_type", "=", "email"),
                ["message_id"],
                order="id",
                limit=1,
            )
        )

    def _ack_file_in_sent(self, message):
        """Queue the acknowledgement ``message`` for the Sent folder of the case's mailbox,
        as replies are (``crm.shop.sent.mail``): created in the savepoint that posts it, so
        an acknowledgement that was not sent is never filed, and filed once (one row per
        message). Its recipient may be an address without a contact."""
        self.ensure_one()
        mailbox = self._get_reply_mailbox()
        if mailbox:
            # queued by message_post already: its References as it goes out
            outgoing = (
                self.env["mail.mail"]
                .sudo()
                .search_fetch([("mail_message_id", "=", message.id)], ["references"], limit=1)
            )
            self._queue_sent_copy(message, mailbox, outgoing.references)

    def _ack_email_from(self):
        """Acknowledgements come from the mailbox replies go out from."""
        mailbox = self._get_reply_mailbox()
        if mailbox:
            return formataddr((mailbox.name or "", mailbox.email))
        return (self.company_id or self.env.company).email_formatted or False
