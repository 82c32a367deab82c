from odoo import api, fields, models


class ShopCarrierMap(models.Model):
    """Which delivery method ships what the shop calls a carrier or shipping method."""

    _name = "shop.carrier.map"
    _description = "Shop carrier mapping"
    _order = "backend_id, shop_code"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    shop_code = fields.Char(
        string="Shop shipping code",
        required=True,
        help="The shipping method's code as the shop sends it (its name also matches).",
    )
    carrier_id = fields.Many2one(
        "delivery.carrier", string="Delivery method", required=True, ondelete="restrict"
    )

    _shop_code_uniq = models.UniqueIndex(
        "(backend_id, shop_code)", "Each shipping code of a shop is mapped once."
    )

    @api.model
    def _shop_find_carrier(self, backend, order):
        """The delivery method mapped to the shipping method of ``order`` on ``backend``.

        The code is looked up first, then the title; each as spelled, then ignoring case
        and surrounding spaces (mapping lines are typed by hand). Empty when unmapped.
        """
        lines = backend.carrier_map_ids
        for value in (order.shipping_method, order.shipping_method_title):
            line = self._shop_match(lines, value) if value else lines.browse()
            if line:
                return line.carrier_id
        return self.env["delivery.carrier"]

    @api.model
    def _shop_match(self, lines, value):
        exact = lines.filtered(lambda m: m.shop_code == value)
        if exact:
            return exact[:1]
        key = value.strip().casefold()
        return lines.filtered(lambda m: m.shop_code.strip().casefold() == key)[:1]
