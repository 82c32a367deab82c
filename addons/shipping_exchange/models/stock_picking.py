from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    shipping_exchange_record_ids = fields.One2many(
        "shipping.exchange.record", "picking_id", string="Exchange records"
    )
