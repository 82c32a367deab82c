from odoo import api, fields, models
from odoo.fields import Domain

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ...mail_crm_shop.services.retry import decide_retry
from ..services import timing

OPEN_CASE_STATES_EXCLUDED = ("done", "archived")
PERMANENT_MAIL_FAILURES = ("mail_email_invalid", "mail_email_missing")
RECHECK_HELD_AFTER = 1  # days


class ReviewRequest(models.Model):
    """Scheduled sending: due requests, the next step, holds, retries and failures."""

    _inherit = "review.request"  # pylint: disable=consider-merging-classes-inherited

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
