from odoo import fields, models


class MailTemplate(models.Model):
    _inherit = "mail.template"

    crm_shop_track_opens = fields.Boolean(
        string="Track opens and clicks",
        default=False,
        help="Adds an invisible image and tracked links to mails of this template to see "
        "when they are opened and clicked. Only enable it where the recipients have "
        "consented to such tracking (GDPR / TTDSG); mail clients may block it anyway.",
    )

    def send_mail(self, res_id, *args, **kwargs):
        template = self.with_context(crm_shop_template_id=self.id)
        return super(MailTemplate, template).send_mail(res_id, *args, **kwargs)
