from odoo import fields, models


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"

    review_request_id = fields.Many2one(
        "review.request", index="btree_not_null", ondelete="set null", readonly=True
    )
    is_review_feedback = fields.Boolean(string="Review feedback", readonly=True)
