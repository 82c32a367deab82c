import logging

from psycopg2 import errors

from odoo import api, models
from odoo.exceptions import ConcurrencyError
from odoo.fields import Domain
from odoo.tools import mute_logger

_logger = logging.getLogger(__name__)

DEFAULT_QUEUE_MODULE = "mail_crm_shop"
DEFAULT_QUEUE_XMLID = "crm_shop_queue_exceptions_company_%s"
# pg_advisory_xact_lock(DEFAULT_QUEUE_LOCK, company id): one creator of a default queue
DEFAULT_QUEUE_LOCK = 0x5C0E
# targets of the default queue, in the company's business hours: a first answer within
# half a working day, solved within two working days
BUSINESS_HOURS_SLA = {"sla_first_response_hours": 4.0, "sla_resolution_hours": 16.0}
# a company without business hours: the same promise counted around the clock
ROUND_THE_CLOCK_SLA = {
    "sla_first_response_hours": 24.0,
    "sla_resolution_hours": 72.0,
    "sla_calendar_hours": True,
}


class CrmShopQueue(models.Model):
    _inherit = "crm.shop.queue"

    @api.model
    def _shop_exception_queue(self, company, configured=None):
        """The queue of an exception case opened automatically (no carrier, a late
        confirmation, an order a person must look at): ``configured`` when set, else the
        company's default "Exceptions" queue (with service level targets, created with
        the company). Every such case so has an owner and a deadline."""
        if configured:
            return configured
        company = company or self.env.company
        return self.browse(self._shop_default_exception_queue_id(company))

    @api.model
    def _shop_default_exception_queue_id(self, company):
        """The id of ``company``'s default exception queue, created if missing.

        Every company gets it when it is created (and at install); creating it here is
        the fallback for a deleted one. Two transactions creating it at once are
        serialised by an advisory lock on the company and the external id (the unique
        key): the loser cannot see the winner's queue in its snapshot and raises a
        :class:`ConcurrencyError`, which is retried (requests) or recorded by the unit of
        work (crons) - never a second queue.
        """
        queue = self._shop_find_default_exception_queue(company)
        if queue:
            return queue.id
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [DEFAULT_QUEUE_LOCK, company.id]
        )
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                queue = self._shop_create_registered_queue(company)
        except errors.UniqueViolation as exc:
            raise ConcurrencyError(
                f"the default exception queue of company {company.id} was created by a "
                "concurrent transaction: retry"
            ) from exc
        return queue.id

    @api.model
    def _shop_default_queue_data(self, company):
        """The external id (``ir.model.data``) of ``company``'s default queue, if any."""
        return (
            self.env["ir.model.data"]
            .sudo()
            .search(
                Domain("module", "=", DEFAULT_QUEUE_MODULE)
                & Domain("name", "=", DEFAULT_QUEUE_XMLID % company.id),
                limit=1,
            )
        )

    @api.model
    def _shop_find_default_exception_queue(self, company):
        known = self._shop_default_queue_data(company)
        return self.sudo().with_context(active_test=False).browse(known.res_id).exists()

    @api.model
    def _shop_create_registered_queue(self, company):
        """Create the default queue of ``company`` and its external id (the unique key)."""
        self._shop_default_queue_data(company).unlink()  # that of a deleted default queue
        queue = self._shop_create_default_exception_queue(company)
        self.env["ir.model.data"].sudo().create(
            {
                "module": DEFAULT_QUEUE_MODULE,
                "name": DEFAULT_QUEUE_XMLID % company.id,
                "model": self._name,
                "res_id": queue.id,
                "noupdate": True,
            }
        )
        return queue

    @api.model
    def _shop_create_missing_default_queues(self, companies=None):
        """Give every company (or ``companies``) its default exception queue now, so that
        no cron has to create it on first use (install, update, new company)."""
        companies = self.env["res.company"].sudo().search([]) if companies is None else companies
        for company in companies:
            if not self._shop_find_default_exception_queue(company):
                self._shop_default_exception_queue_id(company)

    def _shop_follow_company_calendar(self, old_calendar, new_calendar):
        """The default queue follows its company's business hours while its targets are
        those it was created with (a manager's own targets stay)."""
        for queue in self:
            follows = (
                queue.sla_calendar_id == old_calendar
                if old_calendar
                else (queue.sla_calendar_hours and not queue.sla_calendar_id)
            )
            if not follows:
                continue
            if new_calendar:
                preset = _is_preset(queue, ROUND_THE_CLOCK_SLA)
                vals = {**BUSINESS_HOURS_SLA, "sla_calendar_hours": False} if preset else {}
                queue.write({**vals, "sla_calendar_id": new_calendar.id})
            elif _is_preset(queue, BUSINESS_HOURS_SLA):
                queue.write({**ROUND_THE_CLOCK_SLA, "sla_calendar_id": False})

    def _shop_team_of(self, company):
        """Internal users of the team inbox working in ``company``."""
        group = self.env.ref("mail_crm_shop.group_user").sudo()
        return group.all_user_ids.filtered(
            lambda user: not user.share and company in user.company_ids
        )

    def _shop_create_default_exception_queue(self, company):
        calendar = company.resource_calendar_id
        targets = {**BUSINESS_HOURS_SLA, "sla_calendar_id": calendar.id} if calendar else {}
        queue = (
            self.sudo()
            .with_context(lang="en_US")
            .create(
                {
                    "name": "Exceptions",
                    "company_id": company.id,
                    # the whole team sees what waits for a person; managers trim it later
                    "member_ids": [(6, 0, self._shop_team_of(company).ids)],
                    **(targets or ROUND_THE_CLOCK_SLA),
                }
            )
        )
        queue.update_field_translations(
            "name",
            {
                lang: self.with_context(lang=lang).env._("Exceptions")
                for lang, _name in self.env["res.lang"].get_installed()
                if lang != "en_US"
            },
        )
        _logger.info("Created the default exception queue of company %s", company.name)
        return queue


def _is_preset(queue, preset):
    return all(queue[name] == value for name, value in preset.items())
