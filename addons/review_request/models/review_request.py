from odoo import api, fields, models
from odoo.fields import Domain

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ...mail_crm_shop.services.retry import decide_retry
from ..services import timing

OPEN_CASE_STATES_EXCLUDED = ("done", "archived")
PERMANENT_MAIL_FAILURES = ("mail_email_invalid", "mail_email_missing")
RECHECK_HELD_AFTER = 1  # days


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

    # ------------------------------------------------------------------ cron

    @api.model
    def _due_domain(self):
        now = fields.Datetime.now()
        return Domain("state", "=", "scheduled") & Domain("scheduled_date", "<=", now) | (
            Domain("state", "in", ["held", "error", "sent"])
            & Domain("next_attempt_date", "<=", now)
        )

    @api.model
    def _cron_send_due(self, batch_size=50):
        """Send due invitations and reminders, one record per commit."""
        due = self._due_domain()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(due))
        for request in self.search(due, limit=batch_size, order="id"):
            locked = request._shop_try_lock_for_update().filtered_domain(due)
            if locked:
                locked._process()
            if not cron._commit_progress(1):
                break

    def _process(self):
        """Decide and do the next step of one request; failures are recorded."""
        self.ensure_one()
        now = fields.Datetime.now()
        team = self.team_id
        step = timing.next_step(self._progress(), team.review_reminder_days, now)
        if step.action == timing.WAIT:
            self.next_attempt_date = step.due_date
            return
        if step.action == timing.DONE:
            self._finish()
            return
        consent = self._decide_consent()
        if not consent.allowed:
            self._stop(consent.reason)
            return
        hold = self._decide_hold()
        if hold.held:
            self._apply_hold(hold, reminder=step.action == timing.REMIND, now=now)
            return
        try:
            with self.env.cr.savepoint():
                self._send_mail(reminder=step.action == timing.REMIND)
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            self._record_failure(exc)
            return
        self._record_sent(step.action, consent.basis, now)

    def _apply_hold(self, hold, reminder, now):
        reasons = ", ".join(hold.reasons)
        if reminder:  # no reminder about an order with open issues
            self.write({"state": "sent", "hold_reason": reasons, "next_attempt_date": False})
        elif self.team_id.review_hold_policy == "drop":
            self._stop("on hold: " + reasons)
        else:
            self.write(
                {
                    "state": "held",
                    "hold_reason": reasons,
                    "next_attempt_date": fields.Datetime.add(now, days=RECHECK_HELD_AFTER),
                }
            )

    def _record_sent(self, action, basis, now):
        reminder_days = self.team_id.review_reminder_days
        vals = {"attempt_count": 0, "last_error": False, "hold_reason": False}
        if action == timing.INVITE:
            vals |= {"state": "sent", "sent_date": now, "consent_basis": basis}
            step = timing.next_step(timing.Progress(None, sent_date=now), reminder_days, now)
            vals["next_attempt_date"] = step.due_date
        else:
            vals |= {"state": "reminded", "reminder_sent_date": now, "next_attempt_date": False}
        self.write(vals)

    def _finish(self):
        """Nothing more to send: clicked, replied, opted out or reminded already."""
        if not self.sent_date:
            self._stop("the customer opted out of review invitations")
        elif self.state in ("held", "error"):
            self.write({"state": "sent", "next_attempt_date": False})
        else:
            self.next_attempt_date = False

    def _stop(self, reason):
        """Send nothing more; an invitation already sent keeps its state."""
        for request in self:
            vals = {"cancel_reason": reason, "next_attempt_date": False}
            if not request.sent_date:
                vals["state"] = "cancel"
            elif request.state in ("held", "error", "failed"):
                vals["state"] = "sent"
            request.write(vals)

    def _record_failure(self, exc):
        decision = decide_retry(exc, self.attempt_count, fields.Datetime.now())
        self.write(
            {
                "state": decision.state,
                "attempt_count": decision.attempt_count,
                "next_attempt_date": decision.next_attempt_date,
                "last_error": str(exc) or exc.__class__.__name__,
            }
        )
        if decision.state == "failed":
            self.message_post(
                body=self.env._("The review invitation could not be sent: %s", self.last_error)
            )
            responsible = self.team_id.user_id or self.sale_order_id.user_id
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Review invitation failed"),
                note=self.last_error,
                user_id=responsible.id or self.env.uid,
            )

    @api.private
    def _record_delivery_failure(self, failure_type, reason):
        """The mail server refused the invitation or reminder: it will be sent again."""
        error_class = PermanentError if failure_type in PERMANENT_MAIL_FAILURES else TransientError
        for request in self.filtered(lambda r: r.state in ("sent", "reminded")):
            undo = "reminder_sent_date" if request.state == "reminded" else "sent_date"
            request.write({undo: False})
            request._record_failure(error_class(reason or failure_type))

    def _progress(self):
        return timing.Progress(
            scheduled_date=self.scheduled_date or None,
            sent_date=self.sent_date or None,
            reminder_sent_date=self.reminder_sent_date or None,
            clicked=self.clicked or self.reply_count > 0,
            opted_out=self.opted_out or self._is_opted_out(),
        )

    def _decide_consent(self):
        partner, team = self.partner_id, self.team_id
        return timing.decide_consent(
            has_email=bool(partner.email),
            consented=partner.review_consent,
            opted_out=self._is_opted_out(),
            existing_customer_allowed=team.review_existing_customer,
            informed_at_collection=team.review_objection_notice,
        )

    def _decide_hold(self):
        order = self.sale_order_id.sudo()
        cases = (
            self.env["crm.shop.case"]
            .sudo()
            .search_count(
                Domain("state", "not in", OPEN_CASE_STATES_EXCLUDED)
                & (
                    Domain("sale_order_id", "=", order.id)
                    | (
                        Domain("sale_order_id", "=", False)
                        & Domain("partner_id", "=", order.partner_id.id)
                    )
                ),
                limit=1,
            )
        )
        returns = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state != "cancel"
        )
        refunds = order.invoice_ids.filtered(
            lambda m: m.move_type == "out_refund" and m.state != "cancel"
        )
        return timing.decide_hold(bool(cases), bool(returns), bool(refunds), self.delivery_problem)

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
