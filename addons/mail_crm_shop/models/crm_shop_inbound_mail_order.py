"""A mail opening a case that quotes one of the sender's orders is linked to it."""

from odoo import models
from odoo.tools import SQL, email_normalize

from ..services.order_reference import extract_order_references, html_to_text

# batch extras key: which senders of the batch were asked about, which of them have orders
ORDER_SENDERS = "order_senders"


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def _prefetch_order_senders(self, batch):
        """Ask once for the whole batch which of its senders have any order at all, by the
        rules of ``crm.shop.case._find_quoted_order`` (a known sender's commercial
        partner, an unknown sender's address), so that a mail from a sender without
        orders costs no order look-up: suppliers, newsletters, questions before a first
        purchase. Asked when the first mail of the batch quotes a reference; an order
        placed while the batch runs (seconds) is not linked."""
        batch.extras[ORDER_SENDERS] = None  # asked once, also when there is nobody to ask
        partner_ids = sorted({pid for pid in batch.partner_by_email.values() if pid})
        emails = sorted(
            {
                normalized
                for address, pid in batch.partner_by_email.items()
                if not pid and (normalized := email_normalize(address))
            }
        )
        if not partner_ids and not emails:
            return
        self.env["sale.order"].flush_model(["partner_id"])
        self.env["res.partner"].flush_model(["commercial_partner_id", "email_normalized"])
        rows = self.env.execute_query(
            SQL(
                """SELECT sender.id, NULL FROM res_partner sender
                    WHERE sender.id = ANY(%s) AND EXISTS (
                        SELECT 1 FROM res_partner p JOIN sale_order o ON o.partner_id = p.id
                         WHERE p.commercial_partner_id = sender.commercial_partner_id)
                   UNION ALL
                   SELECT NULL, address FROM unnest(%s::varchar[]) AS address
                    WHERE EXISTS (
                        SELECT 1 FROM res_partner p JOIN sale_order o ON o.partner_id = p.id
                         WHERE p.email_normalized = address)""",
                partner_ids,
                emails,
            )
        )
        batch.extras[ORDER_SENDERS] = (
            set(partner_ids),
            {pid for pid, _address in rows if pid},
            set(emails),
            {address for _pid, address in rows if address},
        )

    def _prepare_new_case_vals(self, msg_dict, batch):
        vals = super()._prepare_new_case_vals(msg_dict, batch)
        if not vals.get("sale_order_id"):
            order = self._quoted_order(msg_dict, vals.get("partner_id"), batch)
            if order:
                vals["sale_order_id"] = order.id
        return vals

    def _quoted_order(self, msg_dict, partner_id, batch=None):
        """The sender's order this mail quotes (``crm.shop.case._find_quoted_order``);
        a mail quoting no order reference costs no query, nor does one from a sender the
        batch found without any order (``_prefetch_order_senders``, one query for a batch
        of several mails)."""
        references = extract_order_references(
            msg_dict.get("subject"), html_to_text(msg_dict.get("body"))
        )
        if not references:
            return self.env["sale.order"]
        email = email_normalize(msg_dict.get("email_from") or "") or None
        if batch is not None and len(batch.headers) > 1 and ORDER_SENDERS not in batch.extras:
            self._prefetch_order_senders(batch)
        if _known_without_orders(batch, partner_id or None, email):
            return self.env["sale.order"]
        return self.env["crm.shop.case"]._find_quoted_order(
            references,
            partner_id=partner_id or None,
            email=email,
            company_id=self.mailbox_id.company_id.id or None,
        )


def _known_without_orders(batch, partner_id, email):
    """Whether the batch's prefetch asked about exactly this sender and found no order."""
    known = batch.extras.get(ORDER_SENDERS) if batch is not None else None  # None: not asked
    if known is None:
        return False
    asked_partners, with_orders, asked_emails, emails_with_orders = known
    if partner_id:
        return partner_id in asked_partners and partner_id not in with_orders
    return bool(email) and email in asked_emails and email not in emails_with_orders
