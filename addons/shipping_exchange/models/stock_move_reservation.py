from odoo import models

ROUTE_LATER = "shipping_exchange_route_later"


class StockMove(models.Model):
    _inherit = "stock.move"  # pylint: disable=consider-merging-classes-inherited

    def _action_assign(self, force_qty=False):
        # Core reserves line after line, and each line's new state makes its delivery
        # ready: route the deliveries once all their lines are reserved, so that the routing
        # weighs (and the carrier gets) everything reserved now, not only the first line.
        if self.env.context.get(ROUTE_LATER):
            return super()._action_assign(force_qty=force_qty)
        result = super(StockMove, self.with_context(**{ROUTE_LATER: True}))._action_assign(
            force_qty=force_qty
        )
        self.exists().picking_id._shipping_exchange_route_ready()
        return result
