import base64
import email
import email.policy
import logging
from email.errors import MessageError

from markupsafe import Markup

from odoo import api, fields, models

from ..services.errors import TransientError
from ..services.mail_routing import UnreadableMail, decide_followup, read_headers

_logger = logging.getLogger(__name__)

CLOSED_CASE_STATES = ("done", "archived")


class CrmShopInboundMail(models.Model):
    """One mail as fetched from a mailbox folder: stored first, turned into a case later."""

    _name = "crm.shop.inbound.mail"
    _description = "Inbound mail of a team inbox mailbox"
    _inherit = ["crm.shop.work.unit.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "subject"

    mailbox_id = fields.Many2one(
        "crm.shop.mailbox", required=True, readonly=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="mailbox_id.company_id", store=True)
    folder = fields.Char(required=True, readonly=True)
    uidvalidity = fields.Char(string="UIDVALIDITY", required=True, readonly=True)
    uid = fields.Integer(string="UID", required=True, readonly=True)
    message_id = fields.Char(string="Message-ID", readonly=True, index="btree_not_null")
    dedupe_key = fields.Char(required=True, readonly=True)
    subject = fields.Char(readonly=True)
    email_from = fields.Char(string="From", readonly=True)
    received_date = fields.Datetime(string="Received", readonly=True)
    raw = fields.Binary(string="Original mail", attachment=True, readonly=True)
    raw_filename = fields.Char(compute="_compute_raw_filename")
    is_auto_reply = fields.Boolean(string="Automatic reply", readonly=True)
    state = fields.Selection(tracking=True)
    case_id = fields.Many2one("crm.shop.case", readonly=True, index="btree_not_null")
    # the mailbox option "Seen follows the case": what the server should show, and whether
    # the next sync still has to tell it (see crm.shop.mailbox._push_seen_flags)
    server_seen_wanted = fields.Boolean(string="Seen on the server", readonly=True)
    server_seen_synced = fields.Boolean(string="Seen flag applied", default=True, readonly=True)

    _imap_uid_uniq = models.UniqueIndex("(mailbox_id, folder, uidvalidity, uid)")
    _dedupe_key_uniq = models.UniqueIndex("(mailbox_id, dedupe_key)")
    _seen_pending_idx = models.Index(
        "(mailbox_id, folder, uidvalidity) WHERE server_seen_synced IS NOT TRUE"
    )

    def _compute_raw_filename(self):
        for record in self:
            record.raw_filename = f"mail-{record.id or 'new'}.eml"

    def action_open_case(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.shop.case",
            "res_id": self.case_id.id,
            "view_mode": "form",
        }

    # --- processing --------------------------------------------------------------

    def _prepare_done_vals(self, result):
        vals = {"case_id": result.id}
        if self.mailbox_id.sync_read_state:
            # a mail consumed without a case (a bounce) needs nobody's attention: seen
            seen = result._server_seen_wanted() if result else True
            vals.update(server_seen_wanted=seen, server_seen_synced=False)
        return vals

    @api.private
    def _push_server_seen(self, adapter):
        """Flag these mails (one folder) seen or unseen on the server as wanted."""
        for seen in (True, False):
            mails = self.filtered(lambda mail, seen=seen: mail.server_seen_wanted == seen)
            if mails:
                adapter.set_seen(mails[0].folder, mails.mapped("uid"), seen)
        self.write({"server_seen_synced": True})

    def _failure_message(self, error):
        return self.env._("This mail could not be turned into a case: %s", error)

    def _notify_failed(self, error):
        self.mailbox_id._notify_responsible(self, self.env._("Incoming mail failed"), error)

    def _get_raw(self):
        return base64.b64decode(self.with_context(bin_size=False).raw or b"")

    def _apply(self):
        """Route the stored mail through Odoo's mail gateway; return its case."""
        raw = self._get_raw()
        queue = self.mailbox_id.queue_id
        if not queue.active:
            raise TransientError(
                f"queue {queue.name!r} of mailbox {self.mailbox_id.name!r} is archived"
            )
        try:
            headers = read_headers(raw, self.mailbox_id._get_own_addresses())
            message = email.message_from_bytes(raw, policy=email.policy.SMTP)
            msg_dict = self.env["mail.thread"].message_parse(message)
        except (UnreadableMail, MessageError, LookupError, UnicodeError, ValueError) as exc:
            return self._create_unreadable_case(raw, exc)
        known = self.env["mail.message"].search(
            [("message_id", "=", msg_dict["message_id"]), ("model", "=", "crm.shop.case")],
            limit=1,
        )
        if known:  # already on a case (a copy of our own reply, or a mail in two folders)
            return self.env["crm.shop.case"].browse(known.res_id)
        case = self._find_case(headers)
        decision = self._decide_followup(case, headers) if case else "new"
        thread = self._route_to_case(message, msg_dict, case if decision != "new" else None)
        if decision == "reopen":
            case.write({"state": "in_progress" if case.user_id else "new"})
            case.message_post(
                body=self.env._("Reopened by a reply of the customer."),
                subtype_xmlid="mail.mt_note",
            )
        elif case.state == "wait_customer" and not headers.is_auto_reply:
            case.write({"state": "in_progress"})  # the customer answered: back to the team
        elif decision == "new" and case:
            thread.message_post(
                body=Markup(self.env._("Follow-up of the closed case %s.")) % case.display_name,
                subtype_xmlid="mail.mt_note",
            )
        return thread

    def _decide_followup(self, case, headers):
        """``update``, ``reopen`` or ``new`` for a mail matched to ``case``."""
        closed = case.state in CLOSED_CASE_STATES
        closed_date = (case.done_date or case.write_date) if closed else None
        reopen_days = (case.queue_id or self.mailbox_id.queue_id).reopen_days
        return decide_followup(
            closed_date, fields.Datetime.now(), reopen_days, headers.is_auto_reply
        )

    def _find_case(self, headers):
        """Case token in the subject first, then In-Reply-To/References (see mail_routing)."""
        Case = self.env["crm.shop.case"]
        if headers.case_token:
            case = Case.search(
                [
                    ("number", "=", headers.case_token),
                    ("company_id", "in", [self.mailbox_id.company_id.id, False]),
                ],
                limit=1,
            )
            if case:
                return case
        if headers.reference_ids:
            messages = self.env["mail.message"].search(
                [("message_id", "in", list(headers.reference_ids)), ("model", "=", Case._name)]
            )
            by_id = {message.message_id: message.res_id for message in messages}
            for reference in headers.reference_ids:  # the direct parent wins
                if reference in by_id:
                    return Case.browse(by_id[reference]).exists()
        return Case

    def _route_to_case(self, message, msg_dict, case):
        """Post the mail on ``case`` or, without a case, on a new one (gateway hooks)."""
        Thread = self.env["mail.thread"]
        custom_values = self._prepare_case_vals()
        routes = [("crm.shop.case", case.id if case else False, custom_values, self.env.uid, False)]
        msg_dict.update(Thread._message_parse_post_process(message, msg_dict, routes))
        thread_id = Thread._message_route_process(message, msg_dict, routes)
        return self.env["crm.shop.case"].browse(thread_id)

    def _prepare_case_vals(self):
        mailbox = self.mailbox_id
        partner = self.env["crm.shop.case"]._find_partner_by_email(self.email_from)
        return {
            "queue_id": mailbox.queue_id.id,
            "mailbox_id": mailbox.id,
            "company_id": mailbox.company_id.id,
            "partner_id": partner.id,
            "is_auto_reply": self.is_auto_reply,
        }

    def _create_unreadable_case(self, raw, exc):
        """Keep a mail nobody can parse as a case holding the original bytes."""
        vals = self._prepare_case_vals()
        vals.update(
            name=self.env._("Unreadable mail (%s)", self.mailbox_id.name),
            mail_parse_failed=True,
        )
        case = self.env["crm.shop.case"].create(vals)
        case.message_post(
            body=self.env._(
                "This mail could not be read (%s). The original is attached; "
                "please check it by hand.",
                exc,
            ),
            attachments=[("original-mail.eml", raw)],
            subtype_xmlid="mail.mt_note",
        )
        self.mailbox_id._notify_responsible(
            case, self.env._("Unreadable mail"), self.env._("Check the attached original.")
        )
        return case
