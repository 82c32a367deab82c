import base64
import logging
from datetime import timezone

from odoo import models

from ..services.mail_routing import UnreadableMail, dedupe_key, read_headers

_logger = logging.getLogger(__name__)


class CrmShopMailbox(models.Model):
    _inherit = "crm.shop.mailbox"  # pylint: disable=consider-merging-classes-inherited

    def _store_fetched(self, folder, uidvalidity, fetched):
        """Store one fetched mail unless this mailbox already holds it."""
        return self._store_fetched_batch(folder, uidvalidity, [fetched])

    def _store_fetched_batch(self, folder, uidvalidity, fetched_list):
        """Store the fetched mails this mailbox does not hold yet; return the new records.

        Known mails are found with one query for the whole chunk (and a mail twice in the
        chunk is stored once); the rest is created with one ``create``. The mailbox is
        locked by the sync cron, so no other worker stores into it meanwhile; the unique
        index on the dedupe key stays the last guard.
        """
        own = self._get_own_addresses()
        prepared = {}
        for fetched in fetched_list:
            raw = bytes(fetched.raw)
            try:
                headers = read_headers(raw, own)
            except UnreadableMail:
                headers = None
            key = dedupe_key(headers and headers.message_id, raw)
            if key in prepared:
                self._log_already_stored(folder, fetched, key)
                continue
            prepared[key] = self._prepare_stored_vals(
                folder, uidvalidity, fetched, raw, headers, key
            )
        InboundMail = self.env["crm.shop.inbound.mail"].with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True
        )
        if not prepared:
            return InboundMail
        known = InboundMail.search_fetch(
            [("mailbox_id", "=", self.id), ("dedupe_key", "in", list(prepared))], ["dedupe_key"]
        )
        for key in known.mapped("dedupe_key"):
            vals = prepared.pop(key)
            self._log_already_stored(folder, vals, key)
        return InboundMail.create(list(prepared.values()))

    def _log_already_stored(self, folder, fetched, key):
        uid = fetched["uid"] if isinstance(fetched, dict) else fetched.uid
        _logger.info("Mailbox %s: %s UID %s already stored as %s", self.name, folder, uid, key)

    def _prepare_stored_vals(self, folder, uidvalidity, fetched, raw, headers, key):
        return {
            "mailbox_id": self.id,
            "folder": folder,
            "uidvalidity": uidvalidity,
            "uid": fetched.uid,
            "dedupe_key": key,
            "message_id": headers and headers.message_id,
            "subject": headers and headers.subject,
            "email_from": headers and headers.from_address,
            "is_auto_reply": bool(headers and headers.is_auto_reply),
            "raw": base64.b64encode(raw),
            "received_date": _naive_utc(fetched.internal_date),
        }


def _naive_utc(value):
    """IMAP INTERNALDATE as the naive UTC datetime Odoo stores (None stays None).

    imapclient gives naive local time by default; ``astimezone`` reads a naive value as
    local time, so both kinds end up in timezone.utc.
    """
    if value is None:
        return None
    return value.astimezone(timezone.utc).replace(tzinfo=None)
