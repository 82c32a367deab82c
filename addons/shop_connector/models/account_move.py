from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """A posted customer invoice may be what an open incoming payment waits for."""
        posted = super()._post(soft)
        if posted.filtered(lambda move: move.move_type == "out_invoice"):
            self.env["shop.payment.account"]._shop_trigger_rematch()
        return posted
