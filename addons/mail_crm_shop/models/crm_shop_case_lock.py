"""One person works on a case at a time: the case lock (decided by ``services.locking``)."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools.misc import format_datetime

from ..services import locking


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    lock_user_id = fields.Many2one(
        "res.users", string="Being worked on by", readonly=True, copy=False, tracking=True
    )
    lock_date = fields.Datetime(string="Last activity", readonly=True, copy=False)

    def _lock_decision(self, may_take_over=False):
        self.ensure_one()
        lock = locking.CaseLock(self.lock_user_id.id or None, self.lock_date)
        idle = self.queue_id._lock_idle_timeout()
        return locking.decide_lock(lock, self.env.uid, fields.Datetime.now(), idle, may_take_over)

    def _lock_denied_error(self):
        return UserError(
            self.env._(
                "%(case)s is being worked on by %(user)s since %(date)s.",
                case=self.display_name,
                user=self.lock_user_id.name,
                date=format_datetime(self.env, self.lock_date),
            )
        )

    def _acquire_lock(self, may_take_over=False):
        """Lock ``self`` for the current user; raise ``UserError`` when another works on it."""
        for case in self:
            decision = case._lock_decision(may_take_over)
            if decision == locking.DENY:
                raise case._lock_denied_error()
            if decision == locking.TAKEOVER:
                case.message_post(
                    body=self.env._("Case taken over from %s.", case.lock_user_id.name)
                )
            vals = {"lock_date": fields.Datetime.now()}
            if case.lock_user_id != self.env.user:
                vals["lock_user_id"] = self.env.uid
            case.sudo().write(vals)

    def action_lock(self):
        """Button "Work on this": lock the case for the current user."""
        self._acquire_lock()
        if any(case.state == "new" for case in self):
            self.filtered(lambda c: c.state == "new").state = "in_progress"

    def action_take_over(self):
        if not self.env.user.has_group("mail_crm_shop.group_manager"):
            raise AccessError(self.env._("Only team inbox managers can take over a case."))
        self._acquire_lock(may_take_over=True)

    def action_release_lock(self):
        manager = self.env.user.has_group("mail_crm_shop.group_manager")
        for case in self.filtered("lock_user_id"):
            if case.lock_user_id != self.env.user and not manager:
                raise case._lock_denied_error()
            case.sudo().write({"lock_user_id": False, "lock_date": False})

    @api.model
    def _cron_release_stale_locks(self, batch_size=200):
        cron = self.env["ir.cron"]
        now = fields.Datetime.now()
        queues = self.env["crm.shop.queue"].with_context(active_test=False).search([])
        timeouts = {queue._lock_idle_timeout() for queue in queues}
        timeouts.add(queues.browse()._lock_idle_timeout())  # cases without a queue
        timeouts = [timeout for timeout in timeouts if timeout > timedelta(0)]
        if not timeouts:
            return
        locked = Domain("lock_user_id", "!=", False) & (
            Domain("lock_date", "=", False) | Domain("lock_date", "<=", now - min(timeouts))
        )
        cron._commit_progress(remaining=self.search_count(locked))
        for case in self.search(locked, limit=batch_size, order="lock_date, id"):
            lock = locking.CaseLock(case.lock_user_id.id, case.lock_date)
            if locking.is_stale(lock, now, case.queue_id._lock_idle_timeout()):
                case._shop_try_lock_for_update().write({"lock_user_id": False, "lock_date": False})
            if not cron._commit_progress(1):
                break
