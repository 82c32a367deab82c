from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmShopArchiveHold(models.Model):
    """Legal hold (tax audit, litigation): keeps archived mails beyond their retention.

    Kept apart from the append-only entries; a hold can be ended (archived) but not
    shortened or deleted, so what was held and until when stays on record.
    """

    _name = "crm.shop.archive.hold"
    _description = "GoBD mail archive legal hold"
    _inherit = ["mail.thread"]
    _order = "hold_until desc, id desc"

    name = fields.Char(string="Reason", required=True, tracking=True)
    hold_until = fields.Date(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    entry_ids = fields.Many2many(
        "crm.shop.archive.entry",
        "crm_shop_archive_hold_entry_rel",
        "hold_id",
        "entry_id",
        string="Archived mails",
    )

    def write(self, vals):
        if "hold_until" in vals:
            new = fields.Date.to_date(vals["hold_until"])
            if any(hold.hold_until > new for hold in self):
                raise UserError(self.env._("A legal hold can be extended, not shortened."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("A legal hold cannot be deleted; archive it to end it."))
