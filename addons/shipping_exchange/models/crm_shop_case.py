from odoo import fields, models


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"

    shipping_exchange_record_id = fields.Many2one(
        "shipping.exchange.record",
        string="Exchange record",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )
