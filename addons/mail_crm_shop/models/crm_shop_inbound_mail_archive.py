from odoo import api, models


class CrmShopInboundMail(models.Model):
    """Every stored inbound mail is archived (GoBD) in the same transaction."""

    _inherit = "crm.shop.inbound.mail"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        Entry = self.env["crm.shop.archive.entry"]
        for record in records:
            raw = record._get_raw()
            if raw:
                Entry._archive_raw(raw, "in", record=record)
        return records
