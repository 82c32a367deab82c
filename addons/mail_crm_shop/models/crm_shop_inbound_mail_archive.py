import base64

from odoo import api, models


class CrmShopInboundMail(models.Model):
    """Every stored inbound mail is archived (GoBD) in the same transaction."""

    _inherit = "crm.shop.inbound.mail"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        items = []
        for record, vals in zip(records, vals_list, strict=True):
            # the bytes as given (base64), not read back from the attachment just written
            raw = base64.b64decode(vals["raw"]) if vals.get("raw") else b""
            if raw:
                items.append((raw, "in", record, "default"))
        # one chain append for all of them: one lock and one read of the chain head
        self.env["crm.shop.archive.entry"]._archive_raws(items)
        return records
