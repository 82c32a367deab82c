from odoo import fields, models

RECORD_STATES = [
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("acknowledged", "Acknowledged"),
    ("confirmed", "Confirmed"),
    ("error", "Error (retry scheduled)"),
    ("failed", "Failed"),
    ("cancel", "Cancelled"),
]


class ShippingExchangeRecord(models.Model):
    """One delivery sent to (or confirmed by) one exchange profile."""

    _name = "shipping.exchange.record"
    _description = "Shipping exchange record"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(related="picking_id.name", store=True)
    profile_id = fields.Many2one(
        "shipping.exchange.profile", required=True, ondelete="restrict", index=True
    )
    picking_id = fields.Many2one("stock.picking", string="Delivery", required=True, index=True)
    direction = fields.Selection(
        [("out", "Outgoing"), ("in", "Incoming")], required=True, default="out"
    )
    state = fields.Selection(
        RECORD_STATES, default="pending", required=True, index=True, tracking=True
    )
    attempt_count = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_error = fields.Text(readonly=True)
    sent_date = fields.Datetime(readonly=True)
    company_id = fields.Many2one(related="picking_id.company_id", store=True)

    _picking_profile_uniq = models.UniqueIndex(
        "(picking_id, profile_id, direction) WHERE state != 'cancel'",
        "This delivery already has an exchange record for this profile.",
    )

    def action_retry(self):
        self.filtered(lambda r: r.state in ("error", "failed")).write(
            {"state": "pending", "next_attempt_date": fields.Datetime.now()}
        )

    def action_cancel(self):
        to_cancel = self.filtered(lambda r: r.state not in ("confirmed", "cancel"))
        to_cancel.write({"state": "cancel"})
        # the partial unique index only frees the delivery once the state is in the table
        to_cancel.flush_recordset(["state"])
