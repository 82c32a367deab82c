"""Follow-up (Wiedervorlage): a case comes back to its assignee or queue on a date."""

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    follow_up_date = fields.Datetime(copy=False, tracking=True, index="btree_not_null")
    follow_up_note = fields.Text(copy=False)
    follow_up_event_id = fields.Many2one("calendar.event", copy=False, readonly=True)
    follow_up_due = fields.Boolean(
        string="Follow-up due",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The follow-up date was reached: the case is back in its queue for everyone "
        "until somebody answers, plans a new follow-up, sets it to waiting or closes it.",
    )

    @api.model
    def _cron_follow_up_due(self, batch_size=100):
        due = Domain("follow_up_date", "<=", fields.Datetime.now())
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(due))
        for case in self.search(due, limit=batch_size, order="follow_up_date, id"):
            locked = case._shop_try_lock_for_update().filtered_domain(due)
            try:
                with self.env.cr.savepoint():
                    locked._follow_up_now()
            except Exception:  # unit of work: it stays due and is retried next run
                _logger.exception("Follow-up of case %s failed; retried next run", case.id)
            if not cron._commit_progress(1):
                break

    def _follow_up_now(self):
        """The follow-up date is reached: reopen, tell the assignee or the queue."""
        if not self:
            return
        self.ensure_one()
        note = self.follow_up_note or self.env._("Follow-up of %s", self.display_name)
        users = (self.user_id or self.queue_id.member_ids).filtered(
            lambda user: self.with_user(user).has_access("read")
        )
        for user in users:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(self),
                summary=self.env._("Follow-up"),
                note=note,
                user_id=user.id,
            )
        self.message_post(body=Markup("<p>%s</p>") % note, subtype_xmlid="mail.mt_note")
        # the flag puts the case back in front of the whole queue ("Follow-up due"), also
        # when only its assignee got the to-do
        vals = {"follow_up_date": False, "follow_up_note": False, "follow_up_due": True}
        if self.state != "in_progress":
            vals["state"] = "in_progress"
        self.write(vals)

    def action_follow_up_to_calendar(self):
        """Put the follow-up into the current user's Odoo calendar."""
        self.ensure_one()
        if not self.follow_up_date:
            raise UserError(self.env._("Set a follow-up date first."))
        vals = {
            "name": self.env._("Follow-up: %s", self.display_name),
            "start": self.follow_up_date,
            "stop": self.follow_up_date + timedelta(minutes=30),
            "description": self.follow_up_note or False,
            "res_model_id": self.env["ir.model"]._get_id(self._name),
            "res_id": self.id,
            "partner_ids": [fields.Command.link(self.env.user.partner_id.id)],
        }
        if self.follow_up_event_id:
            self.follow_up_event_id.write(vals)
        else:
            self.follow_up_event_id = self.env["calendar.event"].create(vals)
        return {
            "type": "ir.actions.act_window",
            "res_model": "calendar.event",
            "res_id": self.follow_up_event_id.id,
            "view_mode": "form",
        }
