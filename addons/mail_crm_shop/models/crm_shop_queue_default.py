import logging

from odoo import api, models
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

DEFAULT_QUEUE_MODULE = "mail_crm_shop"
DEFAULT_QUEUE_XMLID = "crm_shop_queue_exceptions_company_%s"
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
        company's default "Exceptions" queue, created with service level targets on first
        use. Every such case so has an owner and a deadline."""
        if configured:
            return configured
        company = company or self.env.company
        return self.browse(self._shop_default_exception_queue_id(company))

    @api.model
    def _shop_default_exception_queue_id(self, company):
        data = self.env["ir.model.data"].sudo()
        known = data.search(
            Domain("module", "=", DEFAULT_QUEUE_MODULE)
            & Domain("name", "=", DEFAULT_QUEUE_XMLID % company.id),
            limit=1,
        )
        queue = self.sudo().with_context(active_test=False).browse(known.res_id).exists()
        if queue:
            return queue.id
        known.unlink()  # the external id of a deleted default queue
        queue = self._shop_create_default_exception_queue(company)
        # the external id is the unique key: a second default for the company cannot exist
        data.create(
            {
                "module": DEFAULT_QUEUE_MODULE,
                "name": DEFAULT_QUEUE_XMLID % company.id,
                "model": self._name,
                "res_id": queue.id,
                "noupdate": True,
            }
        )
        return queue.id

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
