import logging

from odoo import api, fields, models
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

FETCH_BATCH = 500  # messages per UID FETCH round trip
STORE_CHUNK = 100  # fetched mails stored with one lookup and one create


class CrmShopMailbox(models.Model):
    _inherit = "crm.shop.mailbox"  # pylint: disable=consider-merging-classes-inherited

    # --- sync ------------------------------------------------------------------

    @api.model
    def _cron_sync(self, batch_size=200):
        """Store new mail of every active mailbox, ``batch_size`` per folder and run."""
        mailboxes = self.search([])
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(mailboxes))
        stored = 0
        for mailbox in mailboxes:
            locked = mailbox._shop_try_lock_for_update()
            if locked:
                stored += locked._sync(batch_size)
            if not cron._commit_progress(1):
                break
        if stored:
            self.env.ref("mail_crm_shop.ir_cron_process_inbound_mail")._trigger()

    @api.private
    def _sync(self, batch_size):
        """Sync all folders, return the number of new mails stored.

        A backend-wide failure (login refused, host down) is stored on the mailbox and
        ends its batch; what was stored before stays stored and pending.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        stored = 0
        try:
            with self._get_imap_adapter() as adapter:
                for folder in self._get_folder_names():
                    stored += self._sync_folder(adapter, folder, batch_size, now)
        except Exception as exc:  # noqa: BLE001 - backend boundary, recorded on the mailbox
            _logger.warning("Mailbox %s: sync failed: %s", self.name, exc)
            self.write(
                {
                    "state": "error",
                    "last_error": f"{type(exc).__name__}: {exc}",
                    "last_sync_date": now,
                }
            )
        else:
            self.write({"state": "ok", "last_error": False, "last_sync_date": now})
        return stored

    def _sync_folder(self, adapter, folder, batch_size, now):
        """Store up to ``batch_size`` new mails of ``folder``, commit, then flag them seen."""
        with self.env.cr.savepoint():
            stored = self._store_folder_batch(adapter, folder, batch_size, now)
        # the mails and the folder state are committed before the server hears of them
        self.env["ir.cron"]._commit_progress()
        self._flag_stored_seen(adapter, folder)
        self._push_seen_flags(adapter, folder, batch_size)
        return stored

    def _flag_stored_seen(self, adapter, folder):
        """Flag every stored but not yet flagged mail of ``folder`` as seen on the server."""
        folder_state = self._get_folder_state(folder)
        uids = [int(uid) for uid in (folder_state.unflagged_uids or "").split(",") if uid]
        if uids and self.mark_seen and not self.sync_read_state:
            adapter.set_seen(folder, uids, True)
        if folder_state.unflagged_uids:
            folder_state.unflagged_uids = False

    def _push_seen_flags(self, adapter, folder, batch_size):
        """Apply up to ``batch_size`` pending seen flags of ``folder`` (``sync_read_state``).

        Only mails stored under the folder's current UIDVALIDITY are flagged: under an old
        one their UIDs name other mails now, so those requests are never applied.
        """
        if not self.sync_read_state:
            return
        uidvalidity = self._get_folder_state(folder).uidvalidity
        pending = (
            Domain("mailbox_id", "=", self.id)
            & Domain("folder", "=", folder)
            & Domain("uidvalidity", "=", uidvalidity)
            & Domain("server_seen_synced", "=", False)
        )
        mails = self.env["crm.shop.inbound.mail"].search(pending, order="id", limit=batch_size + 1)
        if len(mails) > batch_size:  # more to flag: run again soon
            self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")._trigger()
            mails = mails[:batch_size]
        # a mail a person is changing right now is left for the next run
        mails._shop_try_lock_for_update()._push_server_seen(adapter)
        self.env["ir.cron"]._commit_progress()

    def _store_folder_batch(self, adapter, folder, batch_size, now):
        folder_state = self._get_folder_state(folder)
        info = adapter.select(folder)
        uidvalidity = str(info.uidvalidity)
        if folder_state.uidvalidity != uidvalidity:
            # the folder was rebuilt: read it again from the start, the dedupe key
            # keeps mails already stored under the old UIDVALIDITY from coming back
            if folder_state.uidvalidity:
                self._log_stale_seen_flags(folder, folder_state.uidvalidity, uidvalidity)
            folder_state.write({"uidvalidity": uidvalidity, "last_uid": 0, "unflagged_uids": False})
        last_uid = folder_state.last_uid
        uids = sorted(uid for uid in adapter.search_uids(folder, last_uid + 1) if uid > last_uid)
        if len(uids) > batch_size:  # more to read: run again soon rather than in 2 minutes
            self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")._trigger()
            uids = uids[:batch_size]
        fetched_uids, stored, chunk = [], 0, []
        for fetched in adapter.fetch(folder, uids, batch_size=FETCH_BATCH):
            chunk.append(fetched)
            fetched_uids.append(fetched.uid)
            if len(chunk) >= STORE_CHUNK:
                stored += len(self._store_fetched_batch(folder, uidvalidity, chunk))
                chunk = []
        if chunk:
            stored += len(self._store_fetched_batch(folder, uidvalidity, chunk))
        if uids:
            last_uid = max(uids)
        unflagged = [uid for uid in (folder_state.unflagged_uids or "").split(",") if uid]
        unflagged += [str(uid) for uid in fetched_uids]
        folder_state.write(
            {
                "last_uid": last_uid,
                "last_sync_date": now,
                "unflagged_uids": ",".join(unflagged) or False,
            }
        )
        return stored

    def _log_stale_seen_flags(self, folder, old_uidvalidity, new_uidvalidity):
        stale = self.env["crm.shop.inbound.mail"].search_count(
            [
                ("mailbox_id", "=", self.id),
                ("folder", "=", folder),
                ("uidvalidity", "=", old_uidvalidity),
                ("server_seen_synced", "=", False),
            ]
        )
        if stale:
            _logger.info(
                "Mailbox %s: %s got UIDVALIDITY %s (was %s); %s pending seen flags of "
                "mails stored before cannot be applied",
                self.name,
                folder,
                new_uidvalidity,
                old_uidvalidity,
                stale,
            )

    def _get_folder_state(self, folder):
        FolderState = self.env["crm.shop.folder.state"]
        state = FolderState.search([("mailbox_id", "=", self.id), ("name", "=", folder)])
        return state or FolderState.create({"mailbox_id": self.id, "name": folder})
