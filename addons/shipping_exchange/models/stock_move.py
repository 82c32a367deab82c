from odoo import models

RESERVED_STATES = ("assigned", "partially_available")


class StockMove(models.Model):
    _inherit = "stock.move"

    def write(self, vals):
        result = super().write(vals)
        # Every path that makes a delivery ready (reservation at confirmation, "Check
        # availability", the scheduler, a receipt that arrives, quantities entered by hand)
        # ends in a move state written here: route the deliveries that became ready now.
        if vals.get("state") in RESERVED_STATES:
            self.picking_id._shipping_exchange_route_ready()
        return result
