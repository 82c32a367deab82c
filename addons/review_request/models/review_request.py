from odoo import api, fields, models

from ..services import timing


class ReviewRequest(models.Model):
    """One review invitation for one delivered sale order."""

    _name = "review.request"
    _description = "Review request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "scheduled_date desc, id desc"

    name = fields.Char(related="sale_order_id.name", store=True)
    sale_order_id = fields.Many2one("sale.order", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="sale_order_id.partner_id", store=True)
    team_id = fields.Many2one(
        related="sale_order_id.team_id", store=True, string="Sales channel", index=True
    )
    platform_id = fields.Many2one("review.platform", help="Platform of the first link sent.")
    state = fields.Selection(
        [
            ("scheduled", "Scheduled"),
            ("held", "On hold"),
            ("error", "Retry scheduled"),
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
    shipped_date = fields.Datetime(
        string="Shipped on", help="Date the last outgoing delivery of the order was done."
    )
    delivered_date = fields.Datetime(
        string="Delivered on", help="Set when the carrier reports the parcel delivered."
    )
    delivery_problem = fields.Boolean(
        help="Set while the carrier reports a problem; the invitation waits."
    )
    scheduled_date = fields.Datetime(
        compute="_compute_scheduled_date", store=True, readonly=False, index=True
    )
    sent_date = fields.Datetime(readonly=True, copy=False)
    reminder_sent_date = fields.Datetime(readonly=True, copy=False)
    attempt_count = fields.Integer(readonly=True, copy=False)
    next_attempt_date = fields.Datetime(readonly=True, copy=False, index=True)
    last_error = fields.Text(readonly=True, copy=False)
    hold_reason = fields.Char(readonly=True, copy=False)
    cancel_reason = fields.Char(readonly=True, copy=False)
    consent_basis = fields.Selection(
        [
            (timing.BASIS_CONSENT, "Consent"),
            (timing.BASIS_EXISTING_CUSTOMER, "Existing customer (UWG §7(3))"),
        ],
        readonly=True,
        copy=False,
    )
    link_tracker_ids = fields.One2many(
        "link.tracker", "review_request_id", string="Tracked links", readonly=True
    )
    clicked = fields.Boolean(readonly=True, copy=False)
    opted_out = fields.Boolean(readonly=True, copy=False)
    reply_count = fields.Integer(string="Replies", readonly=True, copy=False, aggregator="sum")
    complaint = fields.Boolean(readonly=True, copy=False)
    case_ids = fields.One2many("crm.shop.case", "review_request_id", string="Cases", readonly=True)
    company_id = fields.Many2one(related="sale_order_id.company_id", store=True)
    sent_count = fields.Integer(
        string="Invitations sent", compute="_compute_counts", store=True, aggregator="sum"
    )
    clicked_count = fields.Integer(
        string="Links clicked", compute="_compute_counts", store=True, aggregator="sum"
    )
    opted_out_count = fields.Integer(
        string="Opt-outs", compute="_compute_counts", store=True, aggregator="sum"
    )
    complaint_count = fields.Integer(
        string="Complaints", compute="_compute_counts", store=True, aggregator="sum"
    )

    _sale_order_uniq = models.UniqueIndex(
        "(sale_order_id)", "A sale order gets one review request."
    )

    @api.depends("shipped_date", "delivered_date", "team_id.review_delay_days")
    def _compute_scheduled_date(self):
        for request in self:
            if request.state == "scheduled" or not request.scheduled_date:
                request.scheduled_date = timing.scheduled_date(
                    request.shipped_date,
                    request.delivered_date,
                    request.team_id.review_delay_days if request.team_id else 7,
                )

    @api.depends("sent_date", "clicked", "opted_out", "complaint")
    def _compute_counts(self):
        for request in self:
            request.sent_count = int(bool(request.sent_date))
            request.clicked_count = int(request.clicked)
            request.opted_out_count = int(request.opted_out)
            request.complaint_count = int(request.complaint)

    # ------------------------------------------------------------------ creation

    @api.model
    @api.private
    def _create_for_orders(self, orders):
        """Create (or refresh the shipped date of) one request per delivered order."""
        existing = self.search([("sale_order_id", "in", orders.ids)])
        by_order = {request.sale_order_id: request for request in existing}
        vals_list = []
        for order in orders:
            done = order.picking_ids.filtered(
                lambda p: p.state == "done" and p.picking_type_code == "outgoing"
            )
            shipped = max(done.mapped("date_done"), default=False)
            request = by_order.get(order)
            if request:
                if request.state == "scheduled" and shipped:
                    request.shipped_date = shipped
            elif shipped:
                vals_list.append({"sale_order_id": order.id, "shipped_date": shipped})
        return existing | self.create(vals_list)

    # ------------------------------------------------------------------ actions

    def action_cancel(self):
        self.filtered(lambda r: r.state in ("scheduled", "held", "error", "failed")).write(
            {"state": "cancel", "next_attempt_date": False}
        )

    def action_retry(self):
        retried = self.filtered(lambda r: r.state in ("failed", "error", "held"))
        retried.activity_unlink(["mail.mail_activity_data_todo"])
        for request in retried:
            request.write(
                {
                    "state": "sent" if request.sent_date else "scheduled",
                    "attempt_count": 0,
                    "next_attempt_date": fields.Datetime.now(),
                    "last_error": False,
                }
            )

    def _mark_clicked(self):
        self.filtered(lambda r: r.state in ("sent", "reminded", "error")).write(
            {"state": "clicked", "next_attempt_date": False}
        )
        self.write({"clicked": True})
