import logging

from odoo import api, fields, models
from odoo.fields import Domain

from ..services.retry import decide_retry

_logger = logging.getLogger(__name__)

WORK_UNIT_STATES = [
    ("pending", "Pending"),
    ("done", "Done"),
    ("error", "Error (retry scheduled)"),
    ("failed", "Failed"),
]


class CrmShopWorkUnitMixin(models.AbstractModel):
    """One unit of external work, processed by a cron that survives crashes and workers.

    ``pending → done | error (retry scheduled) → failed (a person is needed)``. The cron
    takes each due record with ``try_lock_for_update`` (two servers never process the same
    record), runs ``_apply()`` inside a savepoint and commits after every record, failures
    included. A failure is recorded with backoff (``decide_retry``); when a record becomes
    ``failed`` it is posted in the chatter and ``_notify_failed`` asks a person.

    Models using it inherit ``mail.thread`` and ``mail.activity.mixin`` too and implement
    ``_apply()`` (returns the result) and ``_prepare_done_vals(result)``.
    """

    _name = "crm.shop.work.unit.mixin"
    _description = "Retryable unit of external work"

    state = fields.Selection(
        WORK_UNIT_STATES, default="pending", required=True, readonly=True, index=True
    )
    attempt_count = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_error = fields.Text(readonly=True)

    @api.model
    def _due_domain(self):
        return Domain("state", "in", ["pending", "error"]) & (
            Domain("next_attempt_date", "=", False)
            | Domain("next_attempt_date", "<=", fields.Datetime.now())
        )

    @api.model
    def _cron_process(self, batch_size=50):
        """Process due records, oldest first, one committed unit of work per record."""
        due = self._due_domain()
        cron = self.env["ir.cron"]
        records = self.search(due, limit=batch_size, order="id")
        # commit before the first lock: under REPEATABLE READ, locking a record another
        # worker processed since this transaction's snapshot fails (serialization error)
        cron._commit_progress(remaining=self.search_count(due))
        for record in records:
            locked = record._shop_try_lock_for_update().filtered_domain(due)
            if locked:
                locked._process()
            if not cron._commit_progress(1):
                break

    def action_retry(self):
        retried = self.filtered(lambda r: r.state in ("error", "failed"))
        retried.write(
            {"state": "pending", "attempt_count": 0, "next_attempt_date": fields.Datetime.now()}
        )
        retried.activity_unlink(["mail.mail_activity_data_todo"])

    @api.private
    def _process(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                result = self._apply()
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            self._record_failure(exc)
        else:
            self.write(
                {
                    "state": "done",
                    "last_error": False,
                    "next_attempt_date": False,
                    **self._prepare_done_vals(result),
                }
            )

    def _apply(self):
        raise NotImplementedError

    def _prepare_done_vals(self, result):
        return {}

    def _record_failure(self, exc):
        _logger.info("%s %s failed: %s", self._name, self.id, exc)
        decision = decide_retry(exc, self.attempt_count, fields.Datetime.now())
        error = f"{type(exc).__name__}: {exc}"
        self.write(
            {
                "state": decision.state,
                "attempt_count": decision.attempt_count,
                "next_attempt_date": decision.next_attempt_date,
                "last_error": error,
            }
        )
        if decision.state == "failed":
            self.message_post(body=self._failure_message(error), subtype_xmlid="mail.mt_note")
            self._notify_failed(error)

    def _failure_message(self, error):
        return self.env._("This could not be processed: %s", error)

    def _notify_failed(self, error):
        """Ask a person to look at a failed record (an activity, by default none)."""
