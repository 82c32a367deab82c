from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        delivered = self.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing" and p.sale_id
        )
        if delivered:
            self.env["review.request"].sudo()._create_for_orders(delivered.sale_id)
        return result
