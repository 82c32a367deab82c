from odoo import models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def action_shop_resend_shipping_mail(self):
        """Open the composer with the company's delivery confirmation (team inbox button)."""
        self.ensure_one()
        template = self.company_id.stock_mail_confirmation_template_id or self.env.ref(
            "stock.mail_template_data_delivery_confirmation", raise_if_not_found=False
        )
        if not template:
            raise UserError(self.env._("No shipping mail template is configured."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
            },
        }
