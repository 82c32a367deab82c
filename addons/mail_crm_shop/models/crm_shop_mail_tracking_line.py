from odoo import api, fields, models

from .crm_shop_mail_tracking import TRACKING_STATUSES

REACHED = ("delivered", "opened", "clicked")


class CrmShopMailTrackingLine(models.Model):
    """The delivery status of one recipient of one outgoing mail.

    ``delivered`` means the SMTP session accepted the recipient: our relay took the mail
    for this address. A later bounce (DSN) from the receiving side turns it into
    ``bounced``; ``deferred`` is a temporary refusal (4xx) or a delay notice.
    """

    _name = "crm.shop.mail.tracking.line"
    _description = "Outgoing mail delivery status of one recipient"
    _order = "id"
    _rec_name = "email"

    tracking_id = fields.Many2one(
        "crm.shop.mail.tracking", required=True, readonly=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True, index=True)
    email = fields.Char(string="Recipient", readonly=True, index=True)
    status = fields.Selection(TRACKING_STATUSES, required=True, readonly=True, default="sent")
    status_date = fields.Datetime(readonly=True)
    bounce_type = fields.Selection(
        [("hard", "Hard"), ("soft", "Soft")],
        readonly=True,
        help="Hard: the address does not exist or refuses mail for good. "
        "Soft: a temporary problem such as a full mailbox.",
    )
    dsn_status = fields.Char(string="Status code", readonly=True)
    bounce_reason = fields.Text(readonly=True)
    bounce_case_id = fields.Many2one(
        "crm.shop.case",
        string="Bounce case",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The team inbox case asking to fix this address and send the mail again.",
    )
    opened_date = fields.Datetime(string="Opened on", readonly=True)
    clicked_date = fields.Datetime(string="Clicked on", readonly=True)
    link_click_ids = fields.One2many(
        "link.tracker.click", "crm_shop_tracking_line_id", string="Clicks", readonly=True
    )
    # reporting dimensions and measures (0/100 values averaged into rates)
    template_id = fields.Many2one(related="tracking_id.template_id", store=True)
    model = fields.Char(related="tracking_id.model", store=True, string="Document model")
    sent_date = fields.Datetime(related="tracking_id.sent_date", store=True)
    company_id = fields.Many2one(related="tracking_id.company_id", store=True)
    delivered_rate = fields.Float(
        string="Delivered (%)", compute="_compute_rates", store=True, aggregator="avg"
    )
    bounced_rate = fields.Float(
        string="Bounced (%)", compute="_compute_rates", store=True, aggregator="avg"
    )
    opened_rate = fields.Float(
        string="Opened (%)", compute="_compute_rates", store=True, aggregator="avg"
    )
    clicked_rate = fields.Float(
        string="Clicked (%)", compute="_compute_rates", store=True, aggregator="avg"
    )

    @api.depends("status", "opened_date", "clicked_date")
    def _compute_rates(self):
        for line in self:
            line.delivered_rate = 100.0 if line.status in REACHED else 0.0
            line.bounced_rate = 100.0 if line.status == "bounced" else 0.0
            line.opened_rate = (
                100.0 if line.opened_date or line.status in ("opened", "clicked") else 0.0
            )
            line.clicked_rate = 100.0 if line.clicked_date or line.status == "clicked" else 0.0

    @api.private
    def _record_clicked(self, when):
        """A recipient followed a tracked link. A line of the mail's plain addresses (no
        contact) stands for all of them: they got the same copy."""
        lines = self
        for line in self.filtered(lambda line: not line.partner_id):
            lines |= line.tracking_id.line_ids.filtered(lambda other: not other.partner_id)
        lines.filtered(lambda line: line.status in ("sent", "delivered", "opened")).write(
            {"status": "clicked", "status_date": when}
        )
        lines.filtered(lambda line: not line.opened_date).write({"opened_date": when})
        lines.filtered(lambda line: not line.clicked_date).write({"clicked_date": when})

    @api.private
    def _apply_dsn(self, dsn, when):
        """Record a delivery status notification (services.dsn.Dsn) on these lines."""
        if dsn.action in ("delivered", "relayed", "expanded"):
            return
        if dsn.action == "failed":
            vals = {"status": "bounced", "bounce_type": "hard" if dsn.hard else "soft"}
        else:  # delayed: the remote side keeps trying; never undo a bounce
            vals = {"status": "deferred", "bounce_type": False}
        vals.update(dsn_status=dsn.status, bounce_reason=dsn.diagnostic_code, status_date=when)
        lines = (
            self if dsn.action == "failed" else self.filtered(lambda line: line.status != "bounced")
        )
        lines.write(vals)
