from odoo import fields, models

IMPORT_STATES = [
    ("pending", "Pending"),
    ("done", "Done"),
    ("error", "Error (retry scheduled)"),
    ("failed", "Failed"),
]


class ShopOrderImport(models.Model):
    """One order as fetched from a shop: the raw payload first, the sale order later."""

    _name = "shop.order.import"
    _description = "Imported shop order"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "external_id"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="restrict", index=True)
    external_id = fields.Char(string="External order id", required=True, readonly=True)
    payload = fields.Text(readonly=True, help="The order exactly as the shop delivered it.")
    state = fields.Selection(
        IMPORT_STATES, default="pending", required=True, index=True, tracking=True
    )
    attempt_count = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_error = fields.Text(readonly=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)

    _external_uniq = models.UniqueIndex(
        "(backend_id, external_id)", "This order was already imported from this shop."
    )

    def action_retry(self):
        self.filtered(lambda r: r.state in ("error", "failed")).write(
            {"state": "pending", "next_attempt_date": fields.Datetime.now()}
        )
