from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..services.csv_status import normalize_status_value

# our order statuses (services.orders.ORDER_STATUSES) as the merchant reads them
STATUS_SELECTION = [
    ("pending", "Pending"),
    ("open", "New"),
    ("paid", "Paid"),
    ("shipped", "Shipped"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
]


class ShopCsvStatusMap(models.Model):
    """What a status value in a shop's order CSV file means to us."""

    _name = "shop.csv.status.map"
    _description = "Shop CSV status mapping"
    _order = "backend_id, sequence, id"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    shop_value = fields.Char(
        string="Status in the file",
        required=True,
        help="The value of the status column, as the shop writes it (case does not matter).",
    )
    status = fields.Selection(STATUS_SELECTION, string="Order status", required=True)

    @api.constrains("backend_id", "shop_value")
    def _check_shop_value(self):
        for backend in self.backend_id:
            seen = set()
            for line in backend.csv_status_map_ids:
                key = normalize_status_value(line.shop_value)
                if not key:
                    raise ValidationError(self.env._("A status line has no value from the file."))
                if key in seen:
                    raise ValidationError(
                        self.env._(
                            "The status %(value)s is mapped twice for %(shop)s.",
                            value=line.shop_value.strip(),
                            shop=backend.name,
                        )
                    )
                seen.add(key)
