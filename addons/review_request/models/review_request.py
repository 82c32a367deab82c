from odoo import fields, models


class ReviewRequest(models.Model):
    """One review invitation for one delivered sale order."""

    _name = "review.request"
    _description = "Review request"
    _inherit = ["mail.thread"]
    _order = "scheduled_date desc, id desc"

    name = fields.Char(related="sale_order_id.name", store=True)
    sale_order_id = fields.Many2one("sale.order", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="sale_order_id.partner_id", store=True)
    platform_id = fields.Many2one("review.platform")
    state = fields.Selection(
        [
            ("scheduled", "Scheduled"),
            ("held", "On hold"),
            ("sent", "Sent"),
            ("reminded", "Reminder sent"),
            ("clicked", "Clicked"),
            ("cancel", "Cancelled"),
            ("failed", "Failed"),
        ],
        default="scheduled",
        required=True,
        index=True,
        tracking=True,
    )
    scheduled_date = fields.Datetime(required=True, default=fields.Datetime.now)
    sent_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    company_id = fields.Many2one(related="sale_order_id.company_id", store=True)

    _sale_order_uniq = models.UniqueIndex(
        "(sale_order_id)", "A sale order gets one review request."
    )

    def action_cancel(self):
        self.filtered(lambda r: r.state in ("scheduled", "held")).write({"state": "cancel"})
