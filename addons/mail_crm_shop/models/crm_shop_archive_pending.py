import base64
import email.parser
import email.policy
import hashlib

from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_shop_archive_entry import CATEGORIES, _header_text

# what was sent: fixed once kept (the bytes are only dropped once archived)
PROTECTED_FIELDS = {"raw_sha256", "direction", "category", "message_id", "res_model", "res_id"}


class CrmShopArchivePending(models.Model):
    """A mail that was sent but could not be archived at once: its exact bytes, kept here
    until the retry cron has appended them to the archive (GoBD: nothing is lost).

    Created by the outgoing archive hook (``ir.mail_server``) when appending fails; the
    cron of ``crm.shop.work.unit.mixin`` retries with backoff, a record becomes ``failed``
    after the last attempt and is retried by hand (``action_retry``). Once archived the
    bytes are dropped here: the archive entry holds them.
    """

    _name = "crm.shop.archive.pending"
    _description = "Mail waiting to be archived (GoBD)"
    _inherit = ["crm.shop.work.unit.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "subject"

    raw = fields.Binary(string="Raw message", attachment=False, readonly=True, copy=False)
    raw_sha256 = fields.Char(string="SHA-256", required=True, readonly=True, index=True)
    direction = fields.Selection(
        [("in", "Received"), ("out", "Sent")], required=True, readonly=True
    )
    category = fields.Selection(CATEGORIES, required=True, readonly=True, default="default")
    message_id = fields.Char(string="Message-ID", readonly=True)
    subject = fields.Char(readonly=True)
    res_model = fields.Char(string="Related model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Related record", model_field="res_model", readonly=True
    )
    entry_id = fields.Many2one("crm.shop.archive.entry", string="Archive entry", readonly=True)
    state = fields.Selection(tracking=True)

    def write(self, vals):
        if PROTECTED_FIELDS & set(vals) or vals.get("raw"):
            raise UserError(self.env._("A sent mail kept for the archive cannot be changed."))
        return super().write(vals)

    def action_retry(self):
        """Archive members retry; the record itself stays closed to their writes."""
        self.env["crm.shop.archive.entry"]._check_archive_access()
        return super(CrmShopArchivePending, self.sudo()).action_retry()

    @api.model
    @api.private
    def _park(self, raw, direction, record=None, category="default", error=None):
        """Keep ``raw`` for a later archiving attempt; record ``error`` (the first failure).

        The same bytes are parked once: a second failure for them returns the first record.
        """
        raw = bytes(raw)
        digest = hashlib.sha256(raw).hexdigest()
        Pending = self.sudo()
        existing = Pending.search([("raw_sha256", "=", digest), ("state", "!=", "done")], limit=1)
        if existing:
            return existing
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        pending = Pending.with_context(mail_create_nolog=True).create(
            {
                "raw": base64.b64encode(raw),
                "raw_sha256": digest,
                "direction": direction,
                "category": category,
                "message_id": _header_text(headers, "Message-Id")[:998] or False,
                "subject": _header_text(headers, "Subject") or False,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
            }
        )
        if error is not None:
            pending._record_failure(error)
        return pending

    # --- crm.shop.work.unit.mixin ------------------------------------------------------

    def _apply(self):
        raw = base64.b64decode(self.with_context(bin_size=False).raw or b"")
        if not raw:
            raise ValueError("no raw message to archive")
        record = None
        if self.res_model and self.res_id and self.res_model in self.env:
            record = self.env[self.res_model].sudo().browse(self.res_id).exists() or None
        return self.env["crm.shop.archive.entry"]._archive_raw(
            raw, self.direction, record=record, category=self.category
        )

    def _prepare_done_vals(self, result):
        return {"entry_id": result.id, "raw": False}

    def _failure_message(self, error):
        return self.env._("The mail could not be archived: %s", error)

    def _notify_failed(self, error):
        group = self.env.ref("mail_crm_shop.group_archive")
        for user in group.sudo().user_ids.filtered(lambda u: u.active and not u.share):
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Mail not archived"),
                note=self._failure_message(error),
                user_id=user.id,
            )
