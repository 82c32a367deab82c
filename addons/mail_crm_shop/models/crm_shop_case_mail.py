"""A case and the mail gateway: cases opened from mails, replies filed in Sent, the
address customers answer to. Inbound mail reaches cases through crm.shop.inbound.mail
(see services/mail_routing)."""

import logging
from email.utils import formataddr, parseaddr

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize, email_normalize_all

from ..services.errors import PermanentError
from ..services.mail_routing import case_reply_address
from ..services.mime_case_tokens import add_case_token

_logger = logging.getLogger(__name__)


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    _primary_email = "email_from"

    inbound_mail_ids = fields.One2many(
        "crm.shop.inbound.mail",
        "case_id",
        string="Inbound mails",
        readonly=True,
        groups="mail_crm_shop.group_manager",
    )
    is_auto_reply = fields.Boolean(
        string="Automatic reply",
        readonly=True,
        copy=False,
        help="Opened by an automatic reply, a bounce or a mail loop: never acknowledged "
        "automatically.",
    )
    mail_parse_failed = fields.Boolean(
        string="Unreadable mail",
        readonly=True,
        copy=False,
        help="The mail could not be read; the original is attached in the chatter.",
    )

    @api.model
    def _find_partner_by_email(self, email_address):
        """The contact owning ``email_address`` (any of its addresses, case-insensitive)."""
        Partner = self.env["res.partner"]
        normalized = email_normalize(email_address or "")
        if not normalized:
            return Partner
        partner = Partner.search([("email_normalized", "=", normalized)], order="id", limit=1)
        if partner:
            return partner
        # a contact with several addresses in its e-mail field is normalized to its first one only
        candidates = Partner.search([("email", "=ilike", f"%{normalized}%")], order="id")
        return candidates.filtered(lambda p: normalized in email_normalize_all(p.email))[:1]

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        values = dict(custom_values or {})
        if not values.get("name"):
            values["name"] = (msg_dict.get("subject") or "").strip() or self.env._("(no subject)")
        if not values.get("partner_id"):
            values["partner_id"] = self._find_partner_by_email(msg_dict.get("email_from")).id
        return super().message_new(msg_dict, values)

    def _message_post_after_hook(self, message, msg_vals):
        """A reply to the customer carries the case token and is queued for Sent."""
        result = super()._message_post_after_hook(message, msg_vals)
        comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        if (
            len(self) != 1
            or msg_vals.get("message_type") != "comment"
            or msg_vals.get("subtype_id") != comment
        ):
            return result
        subject = add_case_token(msg_vals.get("subject") or self.name, self.number)
        message.sudo().subject = subject
        msg_vals["subject"] = subject
        mailbox = self._get_reply_mailbox()
        recipients = self.env["res.partner"].browse(msg_vals.get("partner_ids") or [])
        if mailbox and (recipients | self.message_partner_ids).filtered("partner_share"):
            self._queue_sent_copy(message, mailbox)
        return result

    def _queue_sent_copy(self, message, mailbox, references=False):
        """File ``message`` (sent from this case) in the Sent folder of ``mailbox``: queued
        in this transaction, appended by the cron after commit (one row per message).
        ``references``: the outgoing mail's, when it was queued before this row (else
        ``crm.shop.sent.mail._shop_take_references`` sets them when it is queued)."""
        self.ensure_one()
        self.env["crm.shop.sent.mail"].sudo().create(
            {
                "message_id": message.id,
                "case_id": self.id,
                "mailbox_id": mailbox.id,
                "references": references,
            }
        )

    def _get_reply_mailbox(self):
        self.ensure_one()
        if self.mailbox_id:
            return self.mailbox_id
        Mailbox = self.env["crm.shop.mailbox"].sudo()
        return (
            Mailbox.search([("queue_id", "=", self.queue_id.id)], limit=1)
            if self.queue_id
            else Mailbox
        )

    def _notify_get_reply_to(self, default=None, author_id=False):
        """Customers answer to the shared mailbox, where the next sync picks it up."""
        mailboxes = {case.id: case._get_reply_mailbox() for case in self}
        others = self.filtered(lambda case: not mailboxes[case.id])
        result = {}
        if others:  # the standard reply-to (alias, catchall) only where it is needed
            result = super(CrmShopCase, others)._notify_get_reply_to(
                default=default, author_id=author_id
            )
        for case in self - others:
            mailbox = mailboxes[case.id]
            result[case.id] = formataddr((mailbox.name or "", case._reply_address(mailbox)))
        return result

    def _reply_address(self, mailbox):
        """The address customers answer to: the case's own sub-address of the mailbox
        when the mailbox uses them (``service+c-00042@...``), else the mailbox address."""
        self.ensure_one()
        if mailbox.reply_to_case_address and self.number not in (False, "/"):
            try:
                return case_reply_address(mailbox.email, self.number)
            except PermanentError as exc:  # a number the sequence did not write
                _logger.debug("Case %s gets the plain mailbox address: %s", self.id, exc)
        return mailbox.email

    def action_create_partner(self):
        """Create (or link) the contact of the sender: on demand, or on the first reply.

        Team inbox agents may not create contacts in general; whoever may work the case
        may create the one contact of its sender, so the creation runs as superuser.
        """
        self.ensure_one()
        self.check_access("write")
        name, address = parseaddr(self.email_from or "")
        if not address or "@" not in address:
            raise UserError(self.env._("This case has no sender address to create a contact from."))
        partner = self._find_partner_by_email(address) or self.env["res.partner"].sudo().create(
            {"name": name or address, "email": address}
        )
        self.partner_id = partner
        return True
