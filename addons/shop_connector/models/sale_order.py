from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    shop_backend_id = fields.Many2one(
        "shop.backend", string="Shop", readonly=True, index="btree_not_null", copy=False
    )
    shop_external_ref = fields.Char(string="Shop order number", readonly=True, copy=False)
