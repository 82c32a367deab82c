import email
import itertools
import logging
from email.errors import MessageError

from markupsafe import Markup
from psycopg2 import errors

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import email_normalize, email_normalize_all, mute_logger

from ..services import mail_policy
from ..services.errors import TransientError
from ..services.ingest_batch import CaseRef, RoutingBatch, collect_lookups
from ..services.mail_routing import (
    HEADER_PARSE_ERRORS,
    UnreadableMail,
    clean_parsed_mail,
    decide_followup,
    read_headers,
    strip_nul_headers,
)

_logger = logging.getLogger(__name__)

CLOSED_CASE_STATES = ("done", "archived")
# the routing lookups of the batches _cron_process is running in this process, by the
# token its records carry in their context (the batch outlives the per-mail commits)
ROUTING_BATCH_KEY = "crm_shop_routing_batch"
# raw mails kept in memory between the batch's header scan and their processing
KEEP_RAW_BYTES = 256 * 1024
KEEP_RAW_TOTAL = 64 * 1024 * 1024
_RUNNING_BATCHES = {}
_BATCH_TOKENS = itertools.count(1)


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
    # kept once, in the mail's GoBD archive entry (crm_shop_inbound_mail_archive.py)
    raw = fields.Binary(string="Original mail", compute="_compute_raw")
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

    def write(self, vals):
        if vals.get("state") == "done":
            # the routine end of every mail: its case shows it, no tracking message each
            return super(CrmShopInboundMail, self.with_context(mail_notrack=True)).write(vals)
        return super().write(vals)

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
        self.ensure_one()
        return self._raw_by_id().get(self.id, b"")

    # --- batch processing ------------------------------------------------------------

    @api.model
    def _cron_process(self, batch_size=50):
        """Process due mails as the work-unit mixin does, one committed unit per mail, with
        the routing lookups of the whole batch done up front (see ``_prefetch_routing``)."""
        due = self._due_domain()
        cron = self.env["ir.cron"]
        batch = self.search(due, limit=batch_size, order="id")
        token = next(_BATCH_TOKENS)
        _RUNNING_BATCHES[token] = batch._prefetch_routing()
        # commit before the first lock: under REPEATABLE READ, locking a mail another
        # worker processed since this transaction's snapshot fails (serialization error)
        cron._commit_progress(remaining=self.search_count(due))
        processed = False
        try:
            for record in batch.with_context(**{ROUTING_BATCH_KEY: token}):
                # after each commit the cache is empty: read this mail alone again, not
                # the whole batch it was browsed with
                locked = record.with_prefetch()._lock_if_due()
                if locked:
                    locked._process()
                    processed = True
                if not cron._commit_progress(1):
                    break
        finally:
            _RUNNING_BATCHES.pop(token, None)
        if processed:  # the new mails become searchable within moments
            self.env.ref("mail_crm_shop.ir_cron_search_index")._trigger()

    def _lock_if_due(self):
        """Lock this mail if it is still due; one another worker holds or changed
        meanwhile comes back empty (as ``_shop_try_lock_for_update``).

        Called by ``_cron_process`` right after a commit, so the lock is the first
        statement of its transaction: no savepoint is needed to keep the transaction
        usable when another worker's commit makes it fail (a serialization failure), a
        rollback loses nothing.
        """
        try:
            with mute_logger("odoo.sql_db"):  # the refused lock is expected, not an error
                locked = self.try_lock_for_update()
        except errors.SerializationFailure:
            self.env.cr.rollback()
            return self.browse()
        return locked.filtered(_is_due)

    def _routing_batch(self):
        """The lookups of the running batch, or of this mail alone (a manual run)."""
        batch = _RUNNING_BATCHES.get(self.env.context.get(ROUTING_BATCH_KEY))
        if batch is None or self.id not in batch.headers:
            batch = self._prefetch_routing()
        return batch

    def _prefetch_routing(self):
        """Read the headers of these mails and answer their routing questions at once:
        one query each for Message-IDs on cases, case tokens and sender contacts."""
        batch = RoutingBatch()
        kept = 0
        mails = {mail.id: mail for mail in self}
        headers = {}
        for mail_id, raw in self._iter_raw():  # a few MB per query
            if len(raw) <= KEEP_RAW_BYTES and kept + len(raw) <= KEEP_RAW_TOTAL:
                batch.extras[("raw", mail_id)] = raw  # read once per batch, not twice
                kept += len(raw)
            try:
                headers[mail_id] = read_headers(raw, mails[mail_id].mailbox_id._get_own_addresses())
            except UnreadableMail:
                headers[mail_id] = None
        # in the batch's order (case numbers are reserved for the mails still to come)
        batch.headers.update((mail_id, headers.get(mail_id)) for mail_id in mails)
        lookups = collect_lookups(batch.headers.values())
        if lookups.message_ids:
            self._lookup_messages(batch, lookups.message_ids)
        if lookups.tokens:
            self._lookup_tokens(batch, lookups.tokens)
        if lookups.emails:
            self._lookup_partners(batch, lookups.emails)
        return batch

    @api.model
    def _lookup_messages(self, batch, message_ids):
        messages = (
            self.env["mail.message"]
            .sudo()
            .search_fetch(
                [("message_id", "in", list(message_ids)), ("model", "=", "crm.shop.case")],
                ["message_id", "res_id"],
                order="id",
            )
        )
        batch.add_messages(message_ids, ((m.message_id, m.res_id) for m in messages))

    @api.model
    def _lookup_tokens(self, batch, tokens):
        cases = (
            self.env["crm.shop.case"]
            .sudo()
            .search_fetch([("number", "in", list(tokens))], ["number", "company_id"])
        )
        batch.add_cases(_case_ref(case) for case in cases)

    @api.model
    def _lookup_partners(self, batch, emails):
        """Contacts by address as ``crm.shop.case._find_partner_by_email``, for all at once:
        the primary address first, then any address of a contact with several."""
        Partner = self.env["res.partner"].sudo()
        normalized = {email_address: email_normalize(email_address) for email_address in emails}
        wanted = {value for value in normalized.values() if value}
        found = {}
        if wanted:
            for partner in Partner.search_fetch(
                [("email_normalized", "in", list(wanted))], ["email_normalized"], order="id"
            ):
                found.setdefault(partner.email_normalized, partner.id)
        missing = wanted - set(found)
        if missing:  # a contact with several addresses is normalized to its first one only
            domain = Domain.OR(Domain("email", "=ilike", f"%{value}%") for value in missing)
            for partner in Partner.search_fetch(domain, ["email"], order="id"):
                for value in email_normalize_all(partner.email):
                    if value in missing:
                        found.setdefault(value, partner.id)
        for email_address, value in normalized.items():
            batch.partner_by_email[email_address] = found.get(value)
            if value:
                batch.partner_by_email[value] = found.get(value)

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

    def _remember_routing(self, batch, message_id, case):
        """Let later mails of the batch find ``case``, once this mail is done."""
        batch.stage(self.id, message_id, _case_ref(case))

    def _prepare_done_vals(self, result):
        batch = _RUNNING_BATCHES.get(self.env.context.get(ROUTING_BATCH_KEY))
        if batch is not None:
            batch.confirm(self.id)
        vals = {"case_id": result.id}
        if self.mailbox_id.sync_read_state:
            # a mail consumed without a case (a bounce) needs nobody's attention: seen
            seen = result._server_seen_wanted() if result else True
            vals.update(server_seen_wanted=seen, server_seen_synced=False)
        return vals

    def _record_failure(self, exc):
        batch = _RUNNING_BATCHES.get(self.env.context.get(ROUTING_BATCH_KEY))
        if batch is not None:
            batch.discard(self.id)  # its case was rolled back
        return super()._record_failure(exc)

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


def running_routing_batch(env):
    """The routing batch of the ``_cron_process`` run ``env`` belongs to, or None."""
    token = env.context.get(ROUTING_BATCH_KEY)
    return _RUNNING_BATCHES.get(token) if token else None


def _is_due(mail):
    """``_due_domain`` for a locked mail, in Python (no domain evaluation per mail)."""
    return mail.state in ("pending", "error") and (
        not mail.next_attempt_date or mail.next_attempt_date <= fields.Datetime.now()
    )


def _case_ref(case):
    return CaseRef(case.id, case.number, case.company_id.id or None) if case else None
