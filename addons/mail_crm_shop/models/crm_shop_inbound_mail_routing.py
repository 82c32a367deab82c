import email
from email.errors import MessageError

from markupsafe import Markup

from odoo import fields, models
from odoo.tools import email_normalize

from ..services import mail_policy
from ..services.errors import TransientError
from ..services.mail_routing import (
    HEADER_PARSE_ERRORS,
    UnreadableMail,
    clean_parsed_mail,
    decide_followup,
    read_headers,
    strip_nul_headers,
)

CLOSED_CASE_STATES = ("done", "archived")


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    # --- one mail ----------------------------------------------------------------------

    def _apply(self):
        """Turn the stored mail into a mail on its case (a new case when none matches)."""
        batch = self._routing_batch()
        raw = batch.extras.pop(("raw", self.id), None)
        if raw is None:
            raw = self._get_raw()
        queue = self.mailbox_id.queue_id
        if not queue.active:
            raise TransientError(
                f"queue {queue.name!r} of mailbox {self.mailbox_id.name!r} is archived"
            )
        try:
            headers = batch.headers.get(self.id) or read_headers(
                raw, self.mailbox_id._get_own_addresses()
            )
            # NUL is no mail content (RFC 5322) and PostgreSQL refuses it in text: drop it,
            # raw or from an encoded word, in the headers and in what the gateway parsed
            message = strip_nul_headers(email.message_from_bytes(raw, policy=mail_policy.SMTP))
            msg_dict = clean_parsed_mail(self.env["mail.thread"].message_parse(message))
        except (
            UnreadableMail,
            MessageError,
            LookupError,
            UnicodeError,
            *HEADER_PARSE_ERRORS,  # the stdlib and core's parsing on broken headers
        ) as exc:
            return self._create_unreadable_case(raw, exc)
        known = self._known_case(batch, msg_dict["message_id"])
        if known:  # already on a case (a copy of our own reply, or a mail in two folders)
            return known
        case = self._find_case(headers, batch)
        decision = self._decide_followup(case, headers) if case else "new"
        thread = self._post_to_case(msg_dict, case if decision != "new" else None, batch)
        self._remember_routing(batch, msg_dict["message_id"], thread)
        self._acknowledge_new_case(thread, decision, headers, message)
        self._update_case_state(case, thread, decision, headers)
        return thread

    def _update_case_state(self, case, thread, decision, headers):
        """What the mail means for the matched ``case`` (``thread``: the case it is on):
        reopened by the customer, back to the team from waiting, or followed up by a new
        case."""
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

    def _known_case(self, batch, message_id):
        if message_id and not batch.was_asked(message_id):  # not as the headers showed it
            self._lookup_messages(batch, {message_id})
        case_id = batch.case_for_message(message_id)
        return self.env["crm.shop.case"].browse(case_id).exists() if case_id else None

    def _decide_followup(self, case, headers):
        """``update``, ``reopen`` or ``new`` for a mail matched to ``case``."""
        closed = case.state in CLOSED_CASE_STATES
        closed_date = (case.done_date or case.write_date) if closed else None
        reopen_days = (case.queue_id or self.mailbox_id.queue_id).reopen_days
        return decide_followup(
            closed_date, fields.Datetime.now(), reopen_days, headers.is_auto_reply
        )

    def _find_case(self, headers, batch=None):
        """Case token in the subject first, then In-Reply-To/References (see mail_routing).

        The batch's answers are used first; what it does not know is asked again (a case
        another worker created meanwhile)."""
        Case = self.env["crm.shop.case"]
        batch = batch if batch is not None else self._routing_batch()
        companies = (self.mailbox_id.company_id.id or None, None)
        if headers.case_token:
            case_id = batch.case_for_token(headers.case_token, companies)
            if case_id is None:
                self._lookup_tokens(batch, {headers.case_token})
                case_id = batch.case_for_token(headers.case_token, companies)
            if case_id:
                return Case.browse(case_id)
        if headers.reference_ids:
            case_id = batch.case_for_references(headers)
            if case_id is None:
                self._lookup_messages(batch, set(headers.reference_ids))
                case_id = batch.case_for_references(headers)
            if case_id:
                return Case.browse(case_id).exists()
        return Case

    def _prepare_case_vals(self, batch=None):
        mailbox = self.mailbox_id
        email_address = email_normalize(self.email_from or "") or None
        if batch is not None and batch.has_partner_answer(email_address):
            partner_id = batch.partner_for(email_address) or False
        else:
            partner_id = self.env["crm.shop.case"]._find_partner_by_email(self.email_from).id
        return {
            "queue_id": mailbox.queue_id.id,
            "mailbox_id": mailbox.id,
            "company_id": mailbox.company_id.id,
            "partner_id": partner_id,
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
