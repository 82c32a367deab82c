import itertools

from psycopg2 import errors

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import email_normalize, email_normalize_all, mute_logger

from ..services.ingest_batch import CaseRef, RoutingBatch, collect_lookups
from ..services.mail_routing import UnreadableMail, read_headers
from .crm_shop_inbound_mail import _RUNNING_BATCHES, ROUTING_BATCH_KEY

# raw mails kept in memory between the batch's header scan and their processing
KEEP_RAW_BYTES = 256 * 1024
KEEP_RAW_TOTAL = 64 * 1024 * 1024
_BATCH_TOKENS = itertools.count(1)


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

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


def _is_due(mail):
    """``_due_domain`` for a locked mail, in Python (no domain evaluation per mail)."""
    return mail.state in ("pending", "error") and (
        not mail.next_attempt_date or mail.next_attempt_date <= fields.Datetime.now()
    )


def _case_ref(case):
    return CaseRef(case.id, case.number, case.company_id.id or None) if case else None
