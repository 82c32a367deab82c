from decimal import Decimal

from odoo import fields, models

from ..services.routing import RuleSpec


class ShippingExchangeRule(models.Model):
    """Sends a delivery to a profile when all of its conditions hold (first rule wins)."""

    _name = "shipping.exchange.rule"
    _description = "Shipping exchange routing rule"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    profile_id = fields.Many2one("shipping.exchange.profile", required=True, ondelete="cascade")
    max_weight = fields.Float(string="Max. weight (kg)", help="0: any weight")
    max_volume = fields.Float(string="Max. volume (m³)", digits=(12, 4), help="0: any volume")
    max_length = fields.Float(string="Max. length (cm)", help="Longest side of a product; 0: any")
    country_ids = fields.Many2many("res.country", string="Destination countries")
    packstation_allowed = fields.Boolean(string="Packstation addresses", default=True)
    categ_ids = fields.Many2many("product.category", string="Product categories")
    team_ids = fields.Many2many("crm.team", string="Shops")
    min_amount = fields.Float(string="Min. order value")
    max_amount = fields.Float(string="Max. order value", help="0: no limit")

    def _spec(self):
        self.ensure_one()
        return RuleSpec(
            rule_id=self.id,
            profile_id=self.profile_id.id,
            max_weight_kg=Decimal(str(self.max_weight)),
            max_volume_m3=Decimal(str(self.max_volume)),
            max_length_cm=Decimal(str(self.max_length)),
            countries=frozenset(self.country_ids.mapped("code")),
            packstation_allowed=self.packstation_allowed,
            category_ids=frozenset(self.categ_ids.ids),
            team_ids=frozenset(self.team_ids.ids),
            min_amount=Decimal(str(self.min_amount)),
            max_amount=Decimal(str(self.max_amount)),
        )
