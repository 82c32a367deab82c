from odoo import fields, models


class CrmShopMailbox(models.Model):
    _inherit = "crm.shop.mailbox"  # pylint: disable=consider-merging-classes-inherited

    reply_to_case_address = fields.Boolean(
        string="Reply address per case",
        help="Replies from a case get the mailbox address with the case number as "
        "sub-address as their reply address (service+c-00042@shop.example), so a customer's "
        "answer finds its case even without the case number in the subject. The mail "
        "server must deliver such addresses to this mailbox (plus addressing).",
    )
