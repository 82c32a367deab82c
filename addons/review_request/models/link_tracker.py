from odoo import api, fields, models


class LinkTracker(models.Model):
    _inherit = "link.tracker"

    review_request_id = fields.Many2one(
        "review.request", index="btree_not_null", ondelete="cascade", readonly=True
    )


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    @api.model_create_multi
    def create(self, vals_list):
        clicks = super().create(vals_list)
        requests = clicks.sudo().link_id.review_request_id
        if requests:
            requests._mark_clicked()
        return clicks
