"""The team inbox case: its states, fields, assignment and replies.

The rest of the case lives beside it: ``crm_shop_case_lock`` (one person at a time),
``crm_shop_case_service_level`` (SLA), ``crm_shop_case_follow_up`` (Wiedervorlage),
``crm_shop_case_customer`` (the customer's orders, invoices, deliveries; text block
values), ``crm_shop_case_mail`` (mail gateway, reply address, Sent copies),
``crm_shop_case_ack`` (automatic acknowledgement), ``crm_shop_case_order_reference``,
``crm_shop_case_search`` and ``crm_shop_case_seen_state``.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services import assignment

CASE_STATES = [
    ("new", "New"),
    ("in_progress", "In progress"),
    ("wait_customer", "Waiting for customer"),
    ("wait_third", "Waiting for third party"),
    ("done", "Done"),
    ("archived", "Archived"),
]
CLOSED_STATES = ("done", "archived")
# a due follow-up is handled once the case is set to one of these
_FOLLOW_UP_HANDLED_STATES = ("wait_customer", "wait_third", *CLOSED_STATES)


class CrmShopCase(models.Model):
    _name = "crm.shop.case"
    _description = "Team inbox case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _rec_names_search = ["name", "number", "email_from"]

    number = fields.Char(readonly=True, copy=False, index=True, default="/")
    name = fields.Char(string="Title", required=True, tracking=True)
    state = fields.Selection(
        CASE_STATES, default="new", required=True, tracking=True, group_expand=True
    )
    priority = fields.Selection(
        [("0", "Normal"), ("1", "High"), ("2", "Urgent")], default="0", tracking=True
    )
    queue_id = fields.Many2one("crm.shop.queue", index=True, tracking=True)
    mailbox_id = fields.Many2one("crm.shop.mailbox", index="btree_not_null")
    user_id = fields.Many2one(
        "res.users", string="Assigned to", index=True, tracking=True, domain=[("share", "=", False)]
    )
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, tracking=True)
    email_from = fields.Char(string="From")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    is_private = fields.Boolean(
        string="Private", help="Visible only to the assigned user and managers.", tracking=True
    )
    description = fields.Html()
    color = fields.Integer()
    folder_id = fields.Many2one("crm.shop.folder", index="btree_not_null", tracking=True)
    phone_note_ids = fields.One2many("crm.shop.phone.note", "case_id", string="Phone notes")

    _number_uniq = models.UniqueIndex("(number, company_id) WHERE number != '/'")

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"]
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get("number", "/") == "/":
                vals["number"] = sequence.next_by_code("crm.shop.case") or "/"
            vals.setdefault("sla_start_date", now)
        auto_assigned = self._plan_assignments(vals_list)
        cases = super().create(vals_list)
        cases._set_sla_deadlines()
        for case, vals in zip(cases, vals_list, strict=True):
            if id(vals) in auto_assigned:
                case._log_auto_assignment()
        return cases

    def write(self, vals):
        if vals.get("state") == "archived":
            self._check_may_archive()
        if vals.get("follow_up_date") or vals.get("state") in _FOLLOW_UP_HANDLED_STATES:
            vals = {"follow_up_due": False, **vals}  # somebody took care of it
        closing = self.browse()
        if vals.get("state") in CLOSED_STATES:
            vals = {"lock_user_id": False, "lock_date": False, **vals}
            closing = self.filtered(lambda c: c.state not in CLOSED_STATES)
        result = super().write(vals)
        if "queue_id" in vals:
            self._set_sla_deadlines()  # another queue, other targets (same start)
        closing._record_resolution()
        return result

    def _check_may_archive(self):
        """Archiving a case is a manager action (team members close cases as done)."""
        if self.env.su or self.env.user.has_group("mail_crm_shop.group_manager"):
            return
        if self.filtered(lambda case: case.state != "archived"):
            raise UserError(self.env._("Only team inbox managers can archive a case."))

    def action_archive_case(self):
        """Button "Archive" (managers only, see ``_check_may_archive``)."""
        self.write({"state": "archived"})

    @api.depends("number", "name")
    def _compute_display_name(self):
        for case in self:
            case.display_name = f"[#{case.number}] {case.name or ''}"

    # --- assignment ---------------------------------------------------------------

    @api.model
    def _plan_assignments(self, vals_list):
        """Fill ``user_id`` of new cases in non-manual queues (round robin / least open).

        Return the ``id()`` of the values that got an assignee, for the process log.
        """
        assigned = set()
        pending = {}
        for vals in vals_list:
            if vals.get("queue_id") and not vals.get("user_id"):
                pending.setdefault(vals["queue_id"], []).append(vals)
        for queue_id, queue_vals in pending.items():
            queue = self.env["crm.shop.queue"].sudo().browse(queue_id)
            if queue.assignment_mode == "manual":
                continue
            # concurrent arrivals both write last_assigned_user_id: PostgreSQL serialises
            # them (one transaction is retried), so two cases never get one stale turn
            plan = assignment.plan_assignments(queue._assignment_snapshot(), len(queue_vals))
            for vals, user_id in zip(queue_vals, plan, strict=True):
                if user_id:
                    vals["user_id"] = user_id
                    assigned.add(id(vals))
            if plan[-1]:
                queue.last_assigned_user_id = plan[-1]
        return assigned

    def _log_auto_assignment(self):
        self.ensure_one()
        modes = dict(self.queue_id._fields["assignment_mode"]._description_selection(self.env))
        self.message_post(
            body=self.env._(
                "Assigned to %(user)s (%(mode)s).",
                user=self.user_id.name,
                mode=modes[self.queue_id.assignment_mode],
            )
        )

    def action_assign_to_me(self):
        self.write({"user_id": self.env.uid, "state": "in_progress"})
        self.action_lock()

    # --- replies ------------------------------------------------------------------

    def _is_reply(self, message_type, subtype_xmlid, subtype_id):
        if message_type != "comment":
            return False
        comment_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        if subtype_xmlid:
            return self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid) == comment_id
        return subtype_id == comment_id

    def message_post(self, *, message_type="notification", **kwargs):
        if (
            len(self) == 1
            and not self.env.user._is_superuser()
            and self._is_reply(message_type, kwargs.get("subtype_xmlid"), kwargs.get("subtype_id"))
        ):
            self._acquire_lock()  # two people never answer the same case at once
            self._record_first_response()
            if self.follow_up_due:
                self.sudo().follow_up_due = False  # answered: the follow-up is handled
        return super().message_post(message_type=message_type, **kwargs)
