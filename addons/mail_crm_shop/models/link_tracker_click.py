from odoo import api, fields, models


class LinkTrackerClick(models.Model):
    """A click on a link of a tracked mail counts for its recipient's tracking line."""

    _inherit = "link.tracker.click"

    crm_shop_tracking_line_id = fields.Many2one(
        "crm.shop.mail.tracking.line",
        string="Mail recipient",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )

    @api.model_create_multi
    def create(self, vals_list):
        clicks = super().create(vals_list)
        for click in clicks.sudo().filtered("crm_shop_tracking_line_id"):
            click.crm_shop_tracking_line_id._record_clicked(click.create_date)
        return clicks
