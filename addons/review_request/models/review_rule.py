from odoo import api, fields, models

from ..services.routing import Rule


class ReviewRule(models.Model):
    """Which platform's link an order gets; the most specific rule wins."""

    _name = "review.rule"
    _description = "Review routing rule"
    _order = "sequence, id"

    name = fields.Char(compute="_compute_name", store=True, readonly=False)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    platform_id = fields.Many2one("review.platform", required=True, ondelete="restrict")
    product_id = fields.Many2one("product.product", index="btree_not_null")
    categ_id = fields.Many2one(
        "product.category", string="Product category", index="btree_not_null"
    )
    team_id = fields.Many2one("crm.team", string="Sales channel", index="btree_not_null")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.depends("platform_id", "product_id", "categ_id", "team_id")
    def _compute_name(self):
        for rule in self:
            scope = rule.product_id or rule.categ_id or rule.team_id
            general = self.env._("General link")
            rule.name = "%s: %s" % (
                scope.display_name if scope else general,
                rule.platform_id.name or "",
            )

    def _as_service_rule(self):
        self.ensure_one()
        return Rule(
            id=self.id,
            platform_id=self.platform_id.id,
            product_id=self.product_id.id or None,
            category_id=self.categ_id.id or None,
            team_id=self.team_id.id or None,
            sequence=self.sequence,
        )
