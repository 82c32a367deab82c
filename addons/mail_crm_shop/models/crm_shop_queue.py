from datetime import timedelta, timezone

from odoo import fields, models

from ..services import assignment, sla

LOCK_IDLE_PARAM = "mail_crm_shop.lock_idle_minutes"
DEFAULT_LOCK_IDLE_MINUTES = 30


class CrmShopQueue(models.Model):
    _name = "crm.shop.queue"
    _description = "Team inbox queue"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    member_ids = fields.Many2many(
        "res.users",
        "crm_shop_queue_member_rel",
        "queue_id",
        "user_id",
        string="Members",
        domain=[("share", "=", False)],
    )
    assignment_mode = fields.Selection(
        [
            ("manual", "Manual"),
            ("round_robin", "Round robin"),
            ("least_open", "Least open cases"),
        ],
        default="manual",
        required=True,
    )
    last_assigned_user_id = fields.Many2one("res.users", readonly=True, copy=False)
    lock_idle_minutes = fields.Integer(
        string="Release locks after (minutes)",
        help="A case nobody worked on for this long is unlocked again. "
        "0: use the system parameter mail_crm_shop.lock_idle_minutes (default 30).",
    )
    signature = fields.Html(
        string="Queue signature", help="Added below replies written with a text block."
    )
    sla_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Business hours",
        help="Working time the service level targets are counted in.",
    )
    sla_first_response_hours = fields.Float(string="First response within (hours)")
    sla_resolution_hours = fields.Float(string="Resolution within (hours)")
    sla_calendar_hours = fields.Boolean(
        string="Count every hour",
        help="Marketplace rule: targets run around the clock, weekends included "
        "(e.g. answer within 24 hours).",
    )
    # --- mail gateway (ingestion & routing) ---
    reopen_days = fields.Integer(
        string="Reopen closed cases within (days)",
        default=14,
        help="A customer reply to a case closed less than this many days ago reopens it; "
        "a later reply opens a new case. 0: always a new case.",
    )
    # --- end of mail gateway (ingestion & routing) ---
    case_ids = fields.One2many("crm.shop.case", "queue_id", string="Cases")
    open_case_count = fields.Integer(compute="_compute_open_case_count")

    def _compute_open_case_count(self):
        counts = dict(
            self.env["crm.shop.case"]._read_group(
                [("queue_id", "in", self.ids), ("state", "not in", ("done", "archived"))],
                ["queue_id"],
                ["__count"],
            )
        )
        for queue in self:
            queue.open_case_count = counts.get(queue, 0)

    def _open_counts(self):
        self.ensure_one()
        counts = self.env["crm.shop.case"]._read_group(
            [
                ("queue_id", "=", self.id),
                ("user_id", "in", self.member_ids.ids),
                ("state", "not in", ("done", "archived")),
            ],
            ["user_id"],
            ["__count"],
        )
        return {user.id: count for user, count in counts}

    def _assignment_snapshot(self):
        self.ensure_one()
        members = self.member_ids.filtered("active")
        return assignment.QueueSnapshot(
            mode=self.assignment_mode,
            member_ids=tuple(members.ids),
            open_counts=self._open_counts() if self.assignment_mode == "least_open" else {},
            last_assignee_id=self.last_assigned_user_id.id or None,
        )

    def _lock_idle_timeout(self):
        """Idle time after which a case lock expires (per queue, else system-wide)."""
        minutes = self.lock_idle_minutes if self else 0
        if not minutes:
            param = self.env["ir.config_parameter"].sudo().get_param(LOCK_IDLE_PARAM)
            minutes = int(param) if param else DEFAULT_LOCK_IDLE_MINUTES
        return timedelta(minutes=minutes)

    def _sla_deadlines(self, start):
        """Return the :class:`SlaDeadlines` of a case of this queue received at ``start``."""
        self.ensure_one()
        targets = sla.SlaTargets(
            self.sla_first_response_hours or None,
            self.sla_resolution_hours or None,
            self.sla_calendar_hours,
        )
        if not (targets.first_response_hours or targets.resolution_hours):
            return None
        if targets.calendar_hours or not self.sla_calendar_id:
            if not targets.calendar_hours:
                return None  # business hours targets without business hours: no SLA
            return sla.compute_deadlines(start, targets)
        longest = max(targets.first_response_hours or 0, targets.resolution_hours or 0)
        horizon = timedelta(days=max(31, int(longest / 2) + 31))
        return sla.compute_deadlines(start, targets, self._work_intervals(start, start + horizon))

    def _work_intervals(self, start, stop):
        """Work intervals of the business hours between ``start`` and ``stop``, naive UTC."""
        intervals = self.sla_calendar_id._work_intervals_batch(
            start.replace(tzinfo=timezone.utc), stop.replace(tzinfo=timezone.utc)
        )[False]
        return [
            (
                begin.astimezone(timezone.utc).replace(tzinfo=None),
                end.astimezone(timezone.utc).replace(tzinfo=None),
            )
            for begin, end, _meta in intervals
        ]
