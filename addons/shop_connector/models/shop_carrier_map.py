from odoo import fields, models


class ShopCarrierMap(models.Model):
    """Which delivery method ships what the shop calls a carrier or shipping method."""

    _name = "shop.carrier.map"
    _description = "Shop carrier mapping"
    _order = "backend_id, shop_code"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    shop_code = fields.Char(string="Shop shipping code", required=True)
    carrier_id = fields.Many2one(
        "delivery.carrier", string="Delivery method", required=True, ondelete="restrict"
    )

    _shop_code_uniq = models.UniqueIndex(
        "(backend_id, shop_code)", "Each shipping code of a shop is mapped once."
    )
