"""A mail opening a case that quotes one of the sender's orders is linked to it."""

from odoo import models
from odoo.tools import email_normalize

from ..services.order_reference import extract_order_references, html_to_text


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def _prepare_new_case_vals(self, msg_dict, batch):
        vals = super()._prepare_new_case_vals(msg_dict, batch)
        if not vals.get("sale_order_id"):
            order = self._quoted_order(msg_dict, vals.get("partner_id"))
            if order:
                vals["sale_order_id"] = order.id
        return vals

    def _quoted_order(self, msg_dict, partner_id):
        """The sender's order this mail quotes (``crm.shop.case._find_quoted_order``);
        a mail quoting no order reference costs no query."""
        references = extract_order_references(
            msg_dict.get("subject"), html_to_text(msg_dict.get("body"))
        )
        if not references:
            return self.env["sale.order"]
        return self.env["crm.shop.case"]._find_quoted_order(
            references,
            partner_id=partner_id or None,
            email=email_normalize(msg_dict.get("email_from") or "") or None,
            company_id=self.mailbox_id.company_id.id or None,
        )
