from odoo import models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    def _send_mail(self, move, mail_template, **kwargs):
        """Remember the invoice template on the mails sent (delivery tracking)."""
        if mail_template:
            move = move.with_context(crm_shop_template_id=mail_template.id)
        return super()._send_mail(move, mail_template, **kwargs)
