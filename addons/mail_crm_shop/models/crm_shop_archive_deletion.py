from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services import archive
from .crm_shop_archive_entry import TOMBSTONE_SETTING

PROTECTED_FIELDS = {
    "state",
    "requested_by_id",
    "requested_date",
    "approved_by_id",
    "approved_date",
    "deleted_hashes",
}


class CrmShopArchiveDeletion(models.Model):
    """Four-eyes request to delete archived mails whose retention period is over.

    Deleting means removing the raw bytes only: the entry row stays as a tombstone with
    its sequence, digest and chain hash, so the hash chain of every later entry still
    verifies (GoBD: the archive's completeness stays provable) while the content -
    and the personal data in it - is gone. Requested by one archive member, approved by
    another; who, when and which digests is kept here and in the access log.
    """

    _name = "crm.shop.archive.deletion"
    _description = "GoBD mail archive deletion request"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, default=lambda self: self.env._("Deletion request"))
    entry_ids = fields.Many2many("crm.shop.archive.entry", string="Archived mails", required=True)
    reason = fields.Text()
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("requested", "Waiting for approval"),
            ("done", "Deleted"),
            ("refused", "Refused"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    requested_by_id = fields.Many2one("res.users", readonly=True)
    requested_date = fields.Datetime(readonly=True)
    approved_by_id = fields.Many2one("res.users", readonly=True)
    approved_date = fields.Datetime(readonly=True)
    deleted_hashes = fields.Text(string="Deleted (sequence: SHA-256)", readonly=True)

    def write(self, vals):
        internal = self.env.context.get("crm_shop_archive_deletion_internal")
        if not internal and (PROTECTED_FIELDS & set(vals) or any(r.state != "draft" for r in self)):
            raise UserError(self.env._("A requested deletion cannot be changed."))
        return super().write(vals)

    def _internal(self):
        return self.with_context(crm_shop_archive_deletion_internal=True)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_requested(self):
        if any(request.state != "draft" for request in self):
            raise UserError(self.env._("Only draft deletion requests can be deleted."))

    @api.model
    def _tombstones_of(self, entries):
        """``{entry id: archive.Tombstone}``: when and by whom the content was deleted."""
        if not entries:
            return {}
        requests = self.sudo().search(
            [("state", "=", "done"), ("entry_ids", "in", entries.ids)], order="id"
        )
        wanted = set(entries.ids)
        tombstones = {}
        for request in requests:
            tombstone = archive.Tombstone(
                deleted_on=request.approved_date.date(),
                approved_by=request.approved_by_id.name or "",
                requested_by=request.requested_by_id.name or "",
            )
            for entry_id in wanted.intersection(request.entry_ids.ids):
                tombstones.setdefault(entry_id, tombstone)
        return tombstones

    def _check_deletable(self):
        """Raise naming the first entry still under retention or hold."""
        Entry = self.env["crm.shop.archive.entry"]
        years = Entry._retention_years()
        now = datetime.now(timezone.utc)
        for entry in self.entry_ids.sudo().sorted("sequence"):
            allowed, why = archive.can_delete(entry._to_service(with_raw=False), now, years)
            if not allowed:
                raise UserError(
                    self.env._(
                        "Archived mail %(sequence)s cannot be deleted yet: %(why)s",
                        sequence=entry.sequence,
                        why=why,
                    )
                )

    def action_request(self):
        self.env["crm.shop.archive.entry"]._check_archive_access()
        for request in self:
            if request.state != "draft":
                raise UserError(self.env._("Only a draft can be requested."))
            request._check_deletable()
            request._internal().write(
                {
                    "state": "requested",
                    "requested_by_id": self.env.uid,
                    "requested_date": fields.Datetime.now(),
                }
            )

    def action_refuse(self):
        self.env["crm.shop.archive.entry"]._check_archive_access()
        self.filtered(lambda r: r.state == "requested")._internal().write({"state": "refused"})

    def action_approve(self):
        self.env["crm.shop.archive.entry"]._check_archive_access()
        for request in self:
            if request.state != "requested":
                raise UserError(self.env._("Only a requested deletion can be approved."))
            if request.requested_by_id == self.env.user:
                raise UserError(
                    self.env._("A second archive member must approve your own request.")
                )
            request._check_deletable()
            request._delete_content()

    def _delete_content(self):
        self.ensure_one()
        entries = self.entry_ids.sudo().sorted("sequence")
        cr = self.env.cr
        for entry in entries:
            cr.execute("SELECT set_config(%s, %s, true)", [TOMBSTONE_SETTING, entry.chain_hash])
            cr.execute(
                "UPDATE crm_shop_archive_entry SET raw_content = NULL WHERE id = %s", [entry.id]
            )
        cr.execute("SELECT set_config(%s, '', true)", [TOMBSTONE_SETTING])
        entries.invalidate_recordset(["content_removed"])
        Log = self.env["crm.shop.archive.access.log"]
        # copies handed out as downloads go with the original
        Log.sudo().search([("action", "=", "read_raw"), ("entry_ids", "in", entries.ids)]).mapped(
            "attachment_id"
        ).unlink()
        Log._log("delete", entries, detail=self.display_name)
        self._internal().write(
            {
                "state": "done",
                "approved_by_id": self.env.uid,
                "approved_date": fields.Datetime.now(),
                "deleted_hashes": "\n".join(f"{e.sequence}: {e.sha256}" for e in entries),
            }
        )
