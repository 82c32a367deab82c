from odoo import api, models


class ResCompany(models.Model):
    """Every company has its default exception queue from the start (no cron creates it
    on first use), following the company's business hours."""

    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["crm.shop.queue"]._shop_create_missing_default_queues(companies)
        return companies

    def write(self, vals):
        if "resource_calendar_id" not in vals:
            return super().write(vals)
        before = {company: company.resource_calendar_id for company in self}
        result = super().write(vals)
        Queue = self.env["crm.shop.queue"]
        for company, old_calendar in before.items():
            if company.resource_calendar_id == old_calendar:
                continue
            queue = Queue._shop_find_default_exception_queue(company)
            queue._shop_follow_company_calendar(old_calendar, company.resource_calendar_id)
        return result
