from odoo import fields, models


class CrmShopMailbox(models.Model):
    _inherit = "crm.shop.mailbox"

    is_bounce_mailbox = fields.Boolean(
        string="Bounce mailbox",
        help="Mails of this mailbox are delivery status notifications (bounces) of the mails "
        "we send: they update the mail delivery tracking instead of opening cases. "
        "Mails that are not recognisable bounces still become cases.",
    )
