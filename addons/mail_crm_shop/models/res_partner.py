from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_shop_email_bouncing = fields.Boolean(
        string="E-mail bounces",
        readonly=True,
        copy=False,
        help="Set when a mail to this address bounced for good (hard bounce). "
        "Cleared when the e-mail address is changed.",
    )

    def write(self, vals):
        if "email" in vals and "crm_shop_email_bouncing" not in vals:
            vals = {**vals, "crm_shop_email_bouncing": False}
        return super().write(vals)

    @api.private
    def _crm_shop_record_hard_bounce(self):
        """Count the bounce in Odoo's ``message_bounce`` and flag the address."""
        for partner in self:
            partner.write(
                {"message_bounce": partner.message_bounce + 1, "crm_shop_email_bouncing": True}
            )
