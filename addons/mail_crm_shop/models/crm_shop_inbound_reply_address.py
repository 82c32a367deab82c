from odoo import models


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def _find_case(self, headers, batch=None):
        """After the case token and the references: the case reply address the mail was
        sent to (``service+c-00042@...``, see ``services.mail_routing``)."""
        batch = batch if batch is not None else self._routing_batch()
        case = super()._find_case(headers, batch)
        token = headers.address_case_token
        if case or not token:
            return case
        companies = (self.mailbox_id.company_id.id or None, None)
        case_id = batch.case_for_token(token, companies)
        if case_id is None:
            self._lookup_tokens(batch, {token})
            case_id = batch.case_for_token(token, companies)
        return self.env["crm.shop.case"].browse(case_id).exists() if case_id else case
