"""The status mapping of a shop's CSV order files (Yatego's export, a generic CSV)."""

from odoo import Command, api, fields, models

from ..adapters.shops.files import YATEGO_MAPPING
from ..services.csv_status import StatusMap


class ShopBackend(models.Model):
    _inherit = "shop.backend"  # pylint: disable=consider-merging-classes-inherited

    csv_status_map_ids = fields.One2many(
        "shop.csv.status.map",
        "backend_id",
        string="CSV statuses",
        copy=True,
        help="What the values of the file's status column mean. Our own names (new, paid, "
        "shipped, cancelled...) are always understood; an order with another value is "
        "not imported until its value is listed here.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.filtered(
            lambda b: b.backend_type == "yatego" and not b.csv_status_map_ids
        ).action_csv_yatego_statuses()
        return backends

    def action_csv_yatego_statuses(self):
        """Fill in the status values of Yatego's order export (replacing the lines)."""
        lines = [
            Command.create({"sequence": index, "shop_value": value, "status": status})
            for index, (value, status) in enumerate(YATEGO_MAPPING.status_map.items())
        ]
        for backend in self:
            backend.csv_status_map_ids = [Command.clear(), *lines]
        return True

    @api.model
    def _csv_prefill_yatego_statuses(self):
        """Yatego shops without status lines get Yatego's values (on install and update)."""
        backends = self.with_context(active_test=False).search([("backend_type", "=", "yatego")])
        backends.filtered(lambda b: not b.csv_status_map_ids).action_csv_yatego_statuses()

    def _csv_status_map(self):
        """The status mapping read into the shop's :class:`CsvMapping`."""
        self.ensure_one()
        return StatusMap((line.shop_value, line.status) for line in self.csv_status_map_ids)
