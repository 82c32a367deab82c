from datetime import datetime, timezone

from odoo import api, models
from odoo.exceptions import AccessError, UserError

from ..services import archive


class CrmShopArchiveEntry(models.Model):
    _inherit = "crm.shop.archive.entry"  # pylint: disable=consider-merging-classes-inherited

    # --- reading -------------------------------------------------------------------

    def _check_archive_access(self):
        if not self.env.user.has_group("mail_crm_shop.group_archive"):
            raise AccessError(self.env._("Only members of the Archive group may do this."))

    def action_verify(self):
        self._check_archive_access()
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        return log._get_form_action()

    def action_download_raw(self):
        self.ensure_one()
        self._check_archive_access()
        raw = self._raw_bytes().get(self.id)
        if raw is None:
            raise UserError(
                self.env._(
                    "The content of entry %s was deleted after its retention.", self.sequence
                )
            )
        log = self.env["crm.shop.archive.access.log"]._log("read_raw", self)
        attachment = log._attach(f"archive-{self.sequence:010d}.eml", raw, "message/rfc822")
        return log._download_action(attachment)

    @api.model
    def _cron_verify(self):
        """Daily: recompute the whole chain from the stored bytes; report a break."""
        self.env["crm.shop.archive.access.log"]._verify_archive()

    def _raw_bytes(self):
        """Return ``{id: bytes or None}`` straight from the bytea column."""
        if not self.ids:
            return {}
        self.env.cr.execute(
            "SELECT id, raw_content FROM crm_shop_archive_entry WHERE id IN %s",
            [tuple(self.ids)],
        )
        return {
            row[0]: bytes(row[1]) if row[1] is not None else None for row in self.env.cr.fetchall()
        }

    def _to_service(self, with_raw=True, raws=None, tombstones=None):
        """The pure entry; ``tombstones`` (``{id: Tombstone}``, None: looked up) describe
        entries whose content was deleted after retention."""
        self.ensure_one()
        raw = b""
        tombstone = None
        if with_raw:
            raws = raws if raws is not None else self._raw_bytes()
            raw = raws.get(self.id) or b""
            if raws.get(self.id) is None:
                if tombstones is None:
                    tombstones = self._tombstones()
                tombstone = tombstones.get(self.id)
        archived_at = datetime.strptime(self.archived_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=timezone.utc
        )
        return archive.ArchiveEntry(
            sequence=self.sequence,
            archived_at=archived_at,
            raw=raw,
            sha256=self.sha256,
            chain_hash=self.chain_hash,
            message_date=self.message_date and self.message_date.replace(tzinfo=timezone.utc),
            sender=self.sender or "",
            recipients=tuple(filter(None, [self.recipients or ""])),
            subject=self.subject or "",
            case=self._case_reference(),
            category=self.category,
            legal_hold_until=self.legal_hold_until or None,
            tombstone=tombstone,
        )

    def _tombstones(self):
        """``{id: archive.Tombstone}`` of these entries deleted by an approved request."""
        return self.env["crm.shop.archive.deletion"]._tombstones_of(self)

    def _case_reference(self):
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return ""
        record = self.env[self.res_model].sudo().browse(self.res_id).exists()
        if "case_id" in record._fields and record.case_id:  # an inbound mail: its case
            record = record.case_id
        return record.display_name or ""

    @api.model
    def _iter_service_entries(self, domain=None, batch=200):
        """Yield ``(record, service entry, content removed)`` in sequence order.

        Loads ``batch`` raw messages at a time so the whole archive never sits in memory.
        """
        ids = self.sudo().search(domain or [], order="sequence").ids
        for start in range(0, len(ids), batch):
            chunk = self.sudo().browse(ids[start : start + batch])
            raws = chunk._raw_bytes()
            removed = chunk.filtered(lambda e, raws=raws: raws.get(e.id) is None)
            tombstones = removed._tombstones()
            for entry in chunk:
                service = entry._to_service(raws=raws, tombstones=tombstones)
                yield entry, service, raws.get(entry.id) is None
            self.env.invalidate_all()
