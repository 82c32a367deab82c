import logging
from datetime import timezone

from odoo import api, fields, models
from odoo.fields import Domain

from ..services.errors import PermanentError
from ..services.mail_routing import SentCopy, build_sent_copy
from ..services.retry import decide_retry

_logger = logging.getLogger(__name__)


class CrmShopSentMail(models.Model):
    """A reply sent from a case that still has to be filed in the mailbox's Sent folder.

    Created in the transaction that posts the reply, appended by a cron after commit: the
    copy is never lost, and a failed append is retried like any other unit of work.
    """

    _name = "crm.shop.sent.mail"
    _description = "Reply to file in the Sent folder"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    message_id = fields.Many2one(
        "mail.message", string="Reply", required=True, readonly=True, ondelete="cascade"
    )
    case_id = fields.Many2one("crm.shop.case", required=True, readonly=True, index=True)
    mailbox_id = fields.Many2one("crm.shop.mailbox", required=True, readonly=True, index=True)
    subject = fields.Char(related="message_id.subject")
    state = fields.Selection(
        [
            ("pending", "To append"),
            ("done", "Appended"),
            ("error", "Error (retry scheduled)"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    attempt_count = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_error = fields.Text(readonly=True)

    _message_uniq = models.UniqueIndex("(message_id)")

    @api.model
    def _cron_append(self, batch_size=50):
        """File pending replies in the Sent folder of their mailbox."""
        due = Domain("state", "in", ["pending", "error"]) & Domain(
            "next_attempt_date", "<=", fields.Datetime.now()
        )
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(due))
        for record in self.search(due, limit=batch_size, order="id"):
            locked = record.try_lock_for_update().filtered_domain(due)
            if locked:
                locked._append()
            if not cron._commit_progress(1):
                break

    def action_retry(self):
        retried = self.filtered(lambda r: r.state in ("error", "failed"))
        retried.write(
            {"state": "pending", "attempt_count": 0, "next_attempt_date": fields.Datetime.now()}
        )
        retried.activity_unlink(["mail.mail_activity_data_todo"])

    @api.private
    def _append(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                raw = self._build_raw()
                mailbox = self.mailbox_id
                with mailbox._get_imap_adapter() as adapter:
                    adapter.append(mailbox.sent_folder_name or "Sent", raw, seen=True)
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            decision = decide_retry(exc, self.attempt_count, fields.Datetime.now())
            error = f"{type(exc).__name__}: {exc}"
            self.write(
                {
                    "state": decision.state,
                    "attempt_count": decision.attempt_count,
                    "next_attempt_date": decision.next_attempt_date,
                    "last_error": error,
                }
            )
            if decision.state == "failed":
                self.message_post(
                    body=self.env._("The reply could not be filed in the Sent folder: %s", error),
                    subtype_xmlid="mail.mt_note",
                )
                self.mailbox_id._notify_responsible(
                    self, self.env._("Reply not filed in the Sent folder"), error
                )
        else:
            self.write({"state": "done", "last_error": False, "next_attempt_date": False})

    def _build_raw(self):
        message = self.message_id
        partners = (
            message.partner_ids
            | message.notification_ids.filtered(
                lambda n: n.notification_type == "email"
            ).res_partner_id
        )
        to = tuple((p.name or "", p.email_normalized) for p in partners if p.email_normalized)
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
                to=to,
                subject=message.subject or self.case_id.display_name,
                body_html=str(message.body or ""),
                in_reply_to=message.parent_id.message_id or None,
                attachments=attachments,
            )
        )
