from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """Remember the template on the mails it creates (delivery tracking)."""
        composer = self
        if len(self.template_id) == 1:
            composer = self.with_context(crm_shop_template_id=self.template_id.id)
        return super(MailComposeMessage, composer)._action_send_mail(auto_commit=auto_commit)
