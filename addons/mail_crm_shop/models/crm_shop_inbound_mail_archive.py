"""Every stored inbound mail is archived (GoBD) in the same transaction, and its raw
bytes are kept there only: the archive entry is the one copy the mail is processed,
downloaded and, at the end of its retention, deleted from."""

import base64
import hashlib
import logging

from odoo import api, models
from odoo.fields import Domain
from odoo.tools import human_size

_logger = logging.getLogger(__name__)

# raw bytes read per query when a batch of mails is read at once
RAW_READ_BYTES = 8 * 1024 * 1024


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        # ``raw`` (base64, as for a binary field) goes to the archive, not to the record
        raws = [base64.b64decode(vals["raw"]) if vals.get("raw") else b"" for vals in vals_list]
        records = super().create([_without_raw(vals) for vals in vals_list])
        items = [
            (raw, "in", record, "default") for record, raw in zip(records, raws, strict=True) if raw
        ]
        # one chain append for all of them: one lock and one read of the chain head
        self.env["crm.shop.archive.entry"]._archive_raws(items)
        return records

    def _compute_raw(self):
        raws = self._raw_by_id()
        bin_size = self.env.context.get("bin_size")
        for record in self:
            raw = raws.get(record.id)
            if not raw:
                record.raw = False
            else:
                record.raw = human_size(len(raw)) if bin_size else base64.b64encode(raw)

    def _raw_by_id(self):
        """``{id: bytes}`` of these mails (stored ones only); ``b""`` for a mail without
        archived bytes. All at once: for a few mails; a batch uses ``_iter_raw``."""
        raws = dict.fromkeys((id_ for id_ in self.ids if isinstance(id_, int)), b"")
        raws.update(self._iter_raw())
        return raws

    def _iter_raw(self):
        """Yield ``(id, bytes)`` of these mails that have bytes, read from their archive
        entries a few MB per query (memory stays bounded for any batch).

        Mails stored before the archive became their only copy keep their bytes in a
        filestore attachment: read from there when the archive has none.
        """
        ids = [id_ for id_ in self.ids if isinstance(id_, int)]
        if not ids:
            return
        cr = self.env.cr
        groups, group, size = [], [], 0
        archived = set()
        for res_id, entry_id, length, _sha256 in self._shop_archive_entries(ids):
            if not length:
                continue
            archived.add(res_id)
            if group and size + length > RAW_READ_BYTES:
                groups.append(group)
                group, size = [], 0
            group.append(entry_id)
            size += length
        if group:
            groups.append(group)
        for entry_ids in groups:
            cr.execute(
                "SELECT res_id, raw_content FROM crm_shop_archive_entry WHERE id = ANY(%s)",
                [entry_ids],
            )
            for res_id, content in cr.fetchall():
                yield res_id, bytes(content)
        missing = [id_ for id_ in ids if id_ not in archived]
        if missing:
            yield from self._legacy_raw_by_id(missing).items()

    def _legacy_raw_by_id(self, ids):
        """The bytes of mails stored as a filestore attachment of the former ``raw``
        field (databases from before the archive held the only copy)."""
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_field", "=", "raw"),
                    ("res_id", "in", ids),
                ]
            )
        )
        return {attachment.res_id: attachment.raw or b"" for attachment in attachments}

    @api.model
    def _cron_drop_legacy_raw_copies(self, batch_size=200):
        """Remove the filestore copies of the former ``raw`` field whose bytes the mail's
        archive entry holds identically (same SHA-256): the mail then reads the same
        bytes from the archive. A copy is kept while the archive holds no bytes of the
        mail (content deleted at the end of its retention, or never archived): it is the
        only one. Kept copies are searched past, not examined again in this run."""
        cron = self.env["ir.cron"]
        legacy = Domain("res_model", "=", self._name) & Domain("res_field", "=", "raw")
        attachments = self.env["ir.attachment"].sudo()
        last_id, removed = 0, 0
        while True:
            candidates = attachments.search(
                legacy & Domain("id", ">", last_id), order="id", limit=batch_size
            )
            if not candidates:
                break
            last_id = candidates[-1].id
            done = _held_by_archive(candidates._shop_try_lock_for_update())
            done.unlink()
            removed += len(done)
            if not cron._commit_progress(len(done)):
                break
        _logger.info("Removed %s filestore copies of raw mails the archive holds", removed)

    @api.model
    def _shop_archive_entries(self, ids):
        """``[(mail id, entry id, content length, sha256)]``: the archive entry each of
        these mails reads its ``raw`` from (its first incoming one); length 0 when the
        entry holds no bytes (deleted at the end of its retention)."""
        self.env.cr.execute(
            """SELECT DISTINCT ON (res_id)
                      res_id, id, COALESCE(octet_length(raw_content), 0), sha256
                 FROM crm_shop_archive_entry
                WHERE res_model = %s AND res_id = ANY(%s) AND direction = 'in'
                ORDER BY res_id, id""",
            [self._name, list(ids)],
        )
        return self.env.cr.fetchall()


def _held_by_archive(attachments):
    """The legacy ``raw`` attachments among ``attachments`` whose bytes the mail's archive
    entry holds identically."""
    mails = attachments.env["crm.shop.inbound.mail"]
    archived = {
        res_id: sha256
        for res_id, _entry_id, length, sha256 in mails._shop_archive_entries(
            set(attachments.mapped("res_id"))
        )
        if length
    }
    return attachments.filtered(
        lambda a: (
            a.res_id in archived and hashlib.sha256(a.raw or b"").hexdigest() == archived[a.res_id]
        )
    )


def _without_raw(vals):
    if "raw" not in vals:
        return vals
    return {key: value for key, value in vals.items() if key != "raw"}
