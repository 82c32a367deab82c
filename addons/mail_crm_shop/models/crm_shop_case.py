import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools.misc import format_amount, format_datetime

from ..services import assignment, locking, sla
from ..services.placeholders import PlaceholderContext

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

_logger = logging.getLogger(__name__)


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
    # lock: one person works on a case at a time
    lock_user_id = fields.Many2one(
        "res.users", string="Being worked on by", readonly=True, copy=False, tracking=True
    )
    lock_date = fields.Datetime(string="Last activity", readonly=True, copy=False)
    # follow-up (Wiedervorlage)
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
    phone_note_ids = fields.One2many("crm.shop.phone.note", "case_id", string="Phone notes")
    # service level
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
    # the customer's ERP records, beside the case
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Order",
        index="btree_not_null",
        ondelete="set null",
        tracking=True,
        help="The order this case is about (set by the shop connector, review requests, ...).",
    )
    sale_order_ids = fields.Many2many(
        "sale.order", compute="_compute_sale_order_ids", groups="sales_team.group_sale_salesman"
    )
    invoice_ids = fields.Many2many(
        "account.move", compute="_compute_invoice_ids", groups="account.group_account_invoice"
    )
    picking_ids = fields.Many2many(
        "stock.picking", compute="_compute_picking_ids", groups="stock.group_stock_user"
    )
    previous_case_ids = fields.Many2many("crm.shop.case", compute="_compute_previous_case_ids")

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

    # --- lock ---------------------------------------------------------------------

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

    # --- service level ------------------------------------------------------------

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

    # --- follow-up ----------------------------------------------------------------

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

    # --- the customer's records ---------------------------------------------------

    def _customer_records(self, model, domain=None, limit=20):
        """The customer's records of ``model`` the current user may read, newest first."""
        self.ensure_one()
        commercial = self.partner_id.commercial_partner_id
        Model = self.env[model]
        if not commercial or not Model.has_access("read"):
            return Model
        customer = Domain("partner_id", "child_of", commercial.id) & Domain(domain or [])
        return Model.search(customer, limit=limit, order="id desc")

    @api.depends("partner_id")
    def _compute_sale_order_ids(self):
        for case in self:
            case.sale_order_ids = case._customer_records("sale.order")

    @api.depends("partner_id")
    def _compute_invoice_ids(self):
        invoices = [("move_type", "in", ("out_invoice", "out_refund"))]
        for case in self:
            case.invoice_ids = case._customer_records("account.move", invoices)

    @api.depends("partner_id")
    def _compute_picking_ids(self):
        for case in self:
            case.picking_ids = case._customer_records(
                "stock.picking", [("picking_type_code", "=", "outgoing")]
            )

    @api.depends("partner_id")
    def _compute_previous_case_ids(self):
        for case in self:
            others = [("id", "!=", case._origin.id or 0)]
            case.previous_case_ids = case._customer_records("crm.shop.case", others)

    def _get_placeholder_context(self):
        """Build the values text blocks may use from the customer's ERP records."""
        self.ensure_one()
        commercial = self.partner_id.commercial_partner_id
        customer = Domain("partner_id", "child_of", commercial.id or 0)
        order = (
            self.env["sale.order"]
            .sudo()
            .search(customer, order="date_order desc, id desc", limit=1)
        )
        invoices = (
            self.env["account.move"]
            .sudo()
            .search(
                customer
                & Domain("move_type", "=", "out_invoice")
                & Domain("state", "=", "posted")
                & Domain("payment_state", "in", ("not_paid", "partial"))
            )
        )
        pickings = (
            self.env["stock.picking"]
            .sudo()
            .search(
                customer
                & Domain("picking_type_code", "=", "outgoing")
                & Domain("state", "=", "done"),
                order="date_done desc, id desc",
            )
        )
        tracking = next((p.carrier_tracking_url for p in pickings if p.carrier_tracking_url), "")
        amount = ""
        if invoices:
            currency = invoices[0].currency_id
            total = sum(
                invoices.filtered(lambda m: m.currency_id == currency).mapped("amount_residual")
            )
            amount = format_amount(self.env, total, currency)
        states = dict(order._fields["state"]._description_selection(self.env))
        order_state = states.get(order.state, "") if order else ""
        return PlaceholderContext(
            customer_name=self.partner_id.name or self.email_from or "",
            last_order_number=order.name or "",
            last_order_state=order_state,
            tracking_link=tracking or "",
            open_invoice_amount=amount,
            case_number=self.number or "",
            agent_name=self.env.user.name or "",
        )

    def action_reply_with_text_block(self):
        self.ensure_one()
        self._acquire_lock()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply with text block"),
            "res_model": "crm.shop.case.reply",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_id": self.id},
        }

    # --- mail gateway (ingestion & routing) ---
    # Owned by the ingestion slice; imports are local to keep this block self-contained.
    # Inbound mail reaches cases through crm.shop.inbound.mail (see services/mail_routing).
    _primary_email = "email_from"

    inbound_mail_ids = fields.One2many(
        "crm.shop.inbound.mail",
        "case_id",
        string="Inbound mails",
        readonly=True,
        groups="mail_crm_shop.group_manager",
    )
    is_auto_reply = fields.Boolean(
        string="Automatic reply",
        readonly=True,
        copy=False,
        help="Opened by an automatic reply, a bounce or a mail loop: never acknowledged "
        "automatically.",
    )
    mail_parse_failed = fields.Boolean(
        string="Unreadable mail",
        readonly=True,
        copy=False,
        help="The mail could not be read; the original is attached in the chatter.",
    )

    @api.model
    def _find_partner_by_email(self, email_address):
        """The contact owning ``email_address`` (any of its addresses, case-insensitive)."""
        from odoo.tools import email_normalize, email_normalize_all

        Partner = self.env["res.partner"]
        normalized = email_normalize(email_address or "")
        if not normalized:
            return Partner
        partner = Partner.search([("email_normalized", "=", normalized)], order="id", limit=1)
        if partner:
            return partner
        # a contact with several addresses in its e-mail field is normalized to its first one only
        candidates = Partner.search([("email", "=ilike", f"%{normalized}%")], order="id")
        return candidates.filtered(lambda p: normalized in email_normalize_all(p.email))[:1]

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        values = dict(custom_values or {})
        if not values.get("name"):
            values["name"] = (msg_dict.get("subject") or "").strip() or self.env._("(no subject)")
        if not values.get("partner_id"):
            values["partner_id"] = self._find_partner_by_email(msg_dict.get("email_from")).id
        return super().message_new(msg_dict, values)

    def _message_post_after_hook(self, message, msg_vals):
        """A reply to the customer carries the case token and is queued for Sent."""
        result = super()._message_post_after_hook(message, msg_vals)
        comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        if (
            len(self) != 1
            or msg_vals.get("message_type") != "comment"
            or msg_vals.get("subtype_id") != comment
        ):
            return result
        from ..services.mime import add_case_token

        subject = add_case_token(msg_vals.get("subject") or self.name, self.number)
        message.sudo().subject = subject
        msg_vals["subject"] = subject
        mailbox = self._get_reply_mailbox()
        recipients = self.env["res.partner"].browse(msg_vals.get("partner_ids") or [])
        if mailbox and (recipients | self.message_partner_ids).filtered("partner_share"):
            self._queue_sent_copy(message, mailbox)
        return result

    def _queue_sent_copy(self, message, mailbox):
        """File ``message`` (sent from this case) in the Sent folder of ``mailbox``: queued
        in this transaction, appended by the cron after commit (one row per message)."""
        self.ensure_one()
        self.env["crm.shop.sent.mail"].sudo().create(
            {"message_id": message.id, "case_id": self.id, "mailbox_id": mailbox.id}
        )

    def _get_reply_mailbox(self):
        self.ensure_one()
        if self.mailbox_id:
            return self.mailbox_id
        Mailbox = self.env["crm.shop.mailbox"].sudo()
        return (
            Mailbox.search([("queue_id", "=", self.queue_id.id)], limit=1)
            if self.queue_id
            else Mailbox
        )

    def _notify_get_reply_to(self, default=None, author_id=False):
        """Customers answer to the shared mailbox, where the next sync picks it up."""
        from email.utils import formataddr

        mailboxes = {case.id: case._get_reply_mailbox() for case in self}
        others = self.filtered(lambda case: not mailboxes[case.id])
        result = {}
        if others:  # the standard reply-to (alias, catchall) only where it is needed
            result = super(CrmShopCase, others)._notify_get_reply_to(
                default=default, author_id=author_id
            )
        for case in self - others:
            mailbox = mailboxes[case.id]
            result[case.id] = formataddr((mailbox.name or "", case._reply_address(mailbox)))
        return result

    def _reply_address(self, mailbox):
        """The address customers answer to: the case's own sub-address of the mailbox
        when the mailbox uses them (``service+c-00042@...``), else the mailbox address."""
        from ..services.errors import PermanentError
        from ..services.mail_routing import case_reply_address

        self.ensure_one()
        if mailbox.reply_to_case_address and self.number not in (False, "/"):
            try:
                return case_reply_address(mailbox.email, self.number)
            except PermanentError as exc:  # a number the sequence did not write
                _logger.debug("Case %s gets the plain mailbox address: %s", self.id, exc)
        return mailbox.email

    def action_create_partner(self):
        """Create (or link) the contact of the sender: on demand, or on the first reply.

        Team inbox agents may not create contacts in general; whoever may work the case
        may create the one contact of its sender, so the creation runs as superuser.
        """
        from email.utils import parseaddr

        self.ensure_one()
        self.check_access("write")
        name, address = parseaddr(self.email_from or "")
        if not address or "@" not in address:
            raise UserError(self.env._("This case has no sender address to create a contact from."))
        partner = self._find_partner_by_email(address) or self.env["res.partner"].sudo().create(
            {"name": name or address, "email": address}
        )
        self.partner_id = partner
        return True

    # --- end of mail gateway (ingestion & routing) ---
