from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services import archive

ACTIONS = [
    ("read_raw", "Original downloaded"),
    ("export", "Tax-audit export"),
    ("verify", "Chain verified"),
    ("delete", "Content deleted after retention"),
]


class CrmShopArchiveAccessLog(models.Model):
    """Who touched the mail archive, when and how: raw downloads, exports, verifications.

    Written only by the archive's own actions (as superuser); nobody may change or delete
    a line. A failed verification is posted here and given to every archive member as an
    activity.
    """

    _name = "crm.shop.archive.access.log"
    _description = "GoBD mail archive access log"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "action"

    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="restrict")
    access_date = fields.Datetime(
        string="When", required=True, readonly=True, default=fields.Datetime.now
    )
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    entry_ids = fields.Many2many("crm.shop.archive.entry", string="Archived mails", readonly=True)
    entry_count = fields.Integer(string="Mails", readonly=True)
    result = fields.Selection([("ok", "OK"), ("broken", "Broken")], readonly=True)
    broken_sequence = fields.Integer(string="First broken entry", readonly=True)
    detail = fields.Text(readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="File", readonly=True)

    def write(self, vals):
        if not self.env.context.get("crm_shop_archive_log_internal"):
            raise UserError(self.env._("The archive access log cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The archive access log cannot be deleted."))

    @api.model
    @api.private
    def _log(self, action, entries, **vals):
        return (
            self.sudo()
            .with_context(crm_shop_archive_log_internal=True, mail_create_nolog=True)
            .create(
                {
                    "user_id": self.env.uid,
                    "action": action,
                    "entry_ids": [fields.Command.set(entries.ids)],
                    "entry_count": len(entries),
                    **vals,
                }
            )
        )

    def _attach(self, name, data, mimetype):
        self.ensure_one()
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": name,
                    "raw": data,
                    "mimetype": mimetype,
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        )
        self.attachment_id = attachment
        return attachment

    def _download_action(self, attachment):
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
        }

    # --- verification ----------------------------------------------------------------

    @api.model
    @api.private
    def _verify_archive(self):
        """Recompute the whole chain from the stored bytes; log and report the result."""
        previous, expected, checked = archive.GENESIS_HASH, 1, 0
        problem = broken = None
        for record, entry, removed in self.env["crm.shop.archive.entry"]._iter_service_entries():
            problem = _entry_problem(record, entry, removed, previous, expected)
            if problem:
                broken = record
                break
            previous, expected, checked = entry.chain_hash, entry.sequence + 1, checked + 1
        log = self._log(
            "verify",
            broken or self.env["crm.shop.archive.entry"],
            entry_count=checked,
            result="broken" if broken else "ok",
            broken_sequence=broken.sequence if broken else 0,
            detail=problem or False,
        )
        if broken:
            log._report_broken(broken, problem)
        return log

    def _report_broken(self, broken, problem):
        text = self.env._(
            "The mail archive chain is broken at entry %(sequence)s: %(problem)s",
            sequence=broken.sequence,
            problem=problem,
        )
        self.message_post(body=text, subtype_xmlid="mail.mt_note")
        group = self.env.ref("mail_crm_shop.group_archive")
        for user in group.sudo().user_ids.filtered(lambda u: u.active and not u.share):
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Mail archive chain broken"),
                note=text,
                user_id=user.id,
            )


def _entry_problem(record, entry, removed, previous, expected):
    """Return why ``entry`` breaks the chain ('' when it holds); English, for the log.

    Content deleted after retention (a tombstone of an approved deletion request) still
    chains by its stored digest; content missing without such a request is a break.
    """
    if record.prev_chain_hash != previous:
        return f"stored predecessor hash differs from entry {entry.sequence - 1}"
    if removed and entry.tombstone is None:
        return "content missing without an approved deletion request"
    return archive.verify_chain([entry], previous, first_sequence=expected).reason
