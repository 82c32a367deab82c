import base64
import logging
from datetime import timezone

from odoo import api, fields, models
from odoo.fields import Domain

from ..adapters.imap import ImapAdapter, ImapSettings
from ..services.mail_routing import UnreadableMail, dedupe_key, read_headers

_logger = logging.getLogger(__name__)

FETCH_BATCH = 500  # messages per UID FETCH round trip
STORE_CHUNK = 100  # fetched mails stored with one lookup and one create


class CrmShopMailbox(models.Model):
    _name = "crm.shop.mailbox"
    _description = "Shared IMAP mailbox"
    _order = "name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    email = fields.Char(string="E-mail address", required=True)
    host = fields.Char(required=True)
    port = fields.Integer(required=True, default=993)
    security = fields.Selection(
        [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None (test servers only)")],
        required=True,
        default="ssl",
    )
    login = fields.Char(required=True)
    password = fields.Char(groups="mail_crm_shop.group_manager", copy=False)
    ca_file = fields.Char(
        string="CA certificate file",
        groups="mail_crm_shop.group_manager",
        help="Only for a server whose certificate comes from your own certificate authority: "
        "the path of that authority's certificate (PEM) on the Odoo server. Empty: the "
        "certificate authorities the server trusts anyway. Certificates are always checked.",
    )
    folder_names = fields.Char(
        string="Folders", required=True, default="INBOX", help="Comma-separated IMAP folders."
    )
    sent_folder_name = fields.Char(string="Sent folder", default="Sent")
    queue_id = fields.Many2one(
        "crm.shop.queue", required=True, help="New cases land in this queue."
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        help="Gets a to-do when a mail of this mailbox cannot be processed or filed.",
    )
    mark_seen = fields.Boolean(
        string="Flag as seen", default=True, help="Flag a mail \\Seen once it is stored."
    )
    sync_read_state = fields.Boolean(
        string="Seen follows the case",
        help="The \\Seen flag of a mail on the server follows its case: seen once the case "
        "is no longer new (opened, answered, waiting or closed), unseen again when it is set "
        "back to new. A stored mail is then not flagged seen at once. The flags are applied "
        "by the next synchronisation.",
    )
    state = fields.Selection(
        [("draft", "Not synced yet"), ("ok", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
    )
    last_sync_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    folder_state_ids = fields.One2many(
        "crm.shop.folder.state", "mailbox_id", string="Folder states", readonly=True
    )
    inbound_mail_count = fields.Integer(compute="_compute_inbound_mail_count")

    def _compute_inbound_mail_count(self):
        counts = dict(
            self.env["crm.shop.inbound.mail"]._read_group(
                [("mailbox_id", "in", self.ids)], ["mailbox_id"], ["__count"]
            )
        )
        for mailbox in self:
            mailbox.inbound_mail_count = counts.get(mailbox, 0)

    # --- actions ---------------------------------------------------------------

    def action_sync_now(self):
        """Run the sync cron as soon as possible (it commits, a button must not)."""
        self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("Synchronisation started; refresh in a moment."),
            },
        }

    def action_view_inbound_mails(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_crm_shop.crm_shop_inbound_mail_action"
        )
        action["domain"] = [("mailbox_id", "=", self.id)]
        action["context"] = {}
        return action

    # --- IMAP seam -------------------------------------------------------------

    @api.private
    def _get_imap_adapter(self):
        """Return the IMAP adapter of this mailbox (the one I/O seam, replaced in tests)."""
        self.ensure_one()
        settings = ImapSettings(
            host=self.host,
            port=self.port,
            security=self.security,
            login=self.login,
            password=self.sudo().password or "",
            cafile=self.sudo().ca_file or None,
        )
        return ImapAdapter(settings)

    @api.private
    def _get_own_addresses(self):
        return tuple(filter(None, ((mailbox.email or "").strip().lower() for mailbox in self)))

    @api.private
    def _notify_responsible(self, record, summary, note):
        """Give the mailbox's responsible a to-do on ``record`` (once per record)."""
        self.ensure_one()
        if not self.user_id:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        if record.activity_ids.filtered(lambda a: a.activity_type_id == todo):
            return
        record.activity_schedule(
            "mail.mail_activity_data_todo", summary=summary, note=note, user_id=self.user_id.id
        )

    def _get_folder_names(self):
        self.ensure_one()
        return [name.strip() for name in (self.folder_names or "").split(",") if name.strip()]

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
