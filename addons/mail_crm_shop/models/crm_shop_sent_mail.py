import logging
from datetime import timezone

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools.mail import email_split_and_normalize

from ..services.errors import PermanentError
from ..services.mail_routing import SentCopy, build_sent_copy

_logger = logging.getLogger(__name__)


class CrmShopSentMail(models.Model):
    """A reply (or automatic acknowledgement) sent from a case that still has to be filed
    in the mailbox's Sent folder.

    Created in the transaction that posts the reply, appended by a cron after commit: the
    copy is never lost, and a failed append is retried like any other unit of work.
    """

    _name = "crm.shop.sent.mail"
    _description = "Sent mail to file in the Sent folder"
    _inherit = ["crm.shop.work.unit.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    message_id = fields.Many2one(
        "mail.message", string="Mail", required=True, readonly=True, ondelete="cascade"
    )
    case_id = fields.Many2one("crm.shop.case", required=True, readonly=True, index=True)
    mailbox_id = fields.Many2one("crm.shop.mailbox", required=True, readonly=True, index=True)
    subject = fields.Char(related="message_id.subject")
    references = fields.Text(
        readonly=True,
        help="The References header of the mail as it went out (set when Odoo queues it),"
        " so the copy threads exactly as the sent mail.",
    )
    state = fields.Selection(
        [
            ("pending", "To append"),
            ("done", "Appended"),
            ("error", "Error (retry scheduled)"),
            ("failed", "Failed"),
        ],
        tracking=True,
    )

    _message_uniq = models.UniqueIndex("(message_id)")

    # --- the cron, retries and failures come from crm.shop.work.unit.mixin ---------

    def _apply(self):
        raw = self._build_raw()
        mailbox = self.mailbox_id
        with mailbox._get_imap_adapter() as adapter:
            adapter.append(mailbox.sent_folder_name or "Sent", raw, seen=True)

    @api.model
    def _shop_take_references(self, mails):
        """Keep the References of the outgoing ``mails`` of case messages on their Sent
        rows: Odoo computes them when it queues the mail (the thread's last public
        messages and the mail's own Message-ID) and deletes the mail once sent."""
        references = {
            mail.mail_message_id.id: mail.references
            for mail in mails
            if mail.references and mail.mail_message_id.model == "crm.shop.case"
        }
        if not references:
            return  # no query for the shop's other mails
        rows = self.sudo().search(
            Domain("message_id", "in", list(references)) & Domain("references", "=", False)
        )
        for row in rows:
            row.references = references[row.message_id.id]

    def _failure_message(self, error):
        return self.env._("The mail could not be filed in the Sent folder: %s", error)

    def _notify_failed(self, error):
        self.mailbox_id._notify_responsible(
            self, self.env._("Mail not filed in the Sent folder"), error
        )

    def _build_raw(self):
        message = self.message_id
        partners = (
            message.partner_ids
            | message.notification_ids.filtered(
                lambda n: n.notification_type == "email"
            ).res_partner_id
        )
        to = [(p.name or "", p.email_normalized) for p in partners if p.email_normalized]
        # recipients without a contact (an acknowledgement to an unknown sender)
        known = {address for _name, address in to}
        for name, address in email_split_and_normalize(message.outgoing_email_to or ""):
            if address and address not in known:
                known.add(address)
                to.append((name or "", address))
        if not message.message_id:
            raise PermanentError(f"reply {message.id} has no Message-ID")
        attachments = tuple(
            (att.name, att.mimetype, att.raw or b"") for att in message.attachment_ids
        )
        return build_sent_copy(
            SentCopy(
                message_id=message.message_id,
                date=message.date.replace(tzinfo=timezone.utc),
                from_name=self.mailbox_id.name or "",
                from_address=self.mailbox_id.email,
                to=tuple(to),
                subject=message.subject or self.case_id.display_name,
                body_html=str(message.body or ""),
                in_reply_to=message.parent_id.message_id or None,
                attachments=attachments,
                references=self.references or None,
            )
        )
