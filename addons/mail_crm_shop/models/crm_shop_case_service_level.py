"""Service level of a case: deadlines from its queue, first response, resolution, breaches."""

from odoo import api, fields, models
from odoo.fields import Domain

from ..services import sla
from .crm_shop_case import CLOSED_STATES


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    sla_start_date = fields.Datetime(
        string="Received on", readonly=True, copy=False, help="Service level clocks start here."
    )
    sla_first_response_deadline = fields.Datetime(
        string="First response due", readonly=True, copy=False
    )
    sla_resolution_deadline = fields.Datetime(string="Resolution due", readonly=True, copy=False)
    first_response_date = fields.Datetime(readonly=True, copy=False)
    time_to_first_response = fields.Float(
        string="Hours to first response", readonly=True, copy=False, aggregator="avg"
    )
    done_date = fields.Datetime(string="Closed on", readonly=True, copy=False)
    sla_breached = fields.Boolean(string="SLA breached", readonly=True, copy=False, index=True)

    def _record_first_response(self):
        self.ensure_one()
        if self.first_response_date:
            return
        now = fields.Datetime.now()
        vals = {
            "first_response_date": now,
            "time_to_first_response": sla.elapsed_hours(self.sla_start_date or now, now),
        }
        if sla.is_breached(self.sla_first_response_deadline, now, now):
            vals["sla_breached"] = True
        self.sudo().write(vals)

    def _set_sla_deadlines(self):
        """Store the deadlines of the queue's targets; a case is never refused for them."""
        for case in self:
            try:
                deadlines = case.queue_id and case.queue_id._sla_deadlines(case.sla_start_date)
            except ValueError as exc:  # business hours too short: say so, keep the case
                deadlines = None
                case.message_post(body=self.env._("No service level deadline: %s", exc))
            vals = {
                "sla_first_response_deadline": deadlines and deadlines.first_response,
                "sla_resolution_deadline": deadlines and deadlines.resolution,
            }
            if any(vals.values()) or any(case[name] for name in vals):  # else nothing changes
                case.write(vals)

    def _record_resolution(self):
        now = fields.Datetime.now()
        for case in self:
            vals = {"done_date": now}
            if sla.is_breached(case.sla_resolution_deadline, now, now):
                vals["sla_breached"] = True
            case.sudo().write(vals)

    @api.model
    def _cron_flag_sla_breaches(self, batch_size=500):
        now = fields.Datetime.now()
        overdue = (
            Domain("sla_breached", "=", False)
            & Domain("state", "not in", CLOSED_STATES)
            & (
                (
                    Domain("first_response_date", "=", False)
                    & Domain("sla_first_response_deadline", "<", now)
                )
                | Domain("sla_resolution_deadline", "<", now)
            )
        )
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(overdue))
        for case in self.search(overdue, limit=batch_size):
            case._shop_try_lock_for_update().write({"sla_breached": True})
            if not cron._commit_progress(1):
                break
