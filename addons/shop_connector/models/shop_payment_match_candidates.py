import re
from decimal import Decimal

from odoo import api, models

from ..services.matching_normalise import rf_is_valid
from ..services.matching_types import Candidate

CANDIDATE_INVOICE_FIELDS = [
    "name",
    "partner_id",
    "currency_id",
    "payment_reference",
    "invoice_origin",
    "amount_residual",
    "invoice_date",
]
_HAS_DIGIT = re.compile(r"\d")


class ShopPaymentMatch(models.Model):
    """What the matcher is given: open invoices and prepayment orders as candidates."""

    _inherit = "shop.payment.match"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _build_candidates(self, company):
        """Open invoices and prepayment orders as matcher candidates (a few queries).

        Returns the candidates and a map candidate id -> record (orders and invoices have
        their own id sequences, the matcher needs one).
        """
        invoices = self.env["account.move"].search_fetch(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
            CANDIDATE_INVOICE_FIELDS,
        )
        orders = self.env["sale.order"]
        if "shop_release_state" in orders._fields:
            orders = orders.search(
                [("company_id", "=", company.id), ("shop_release_state", "=", "waiting_payment")]
            )
            # an order with an open invoice is paid through that invoice
            orders = orders.filtered(
                lambda order: not (order.order_line.invoice_lines.move_id & invoices)
            )
        people = self._candidate_people(invoices.partner_id | orders.partner_id)
        paid = {}
        for match in self.search(
            [("sale_order_id", "in", orders.ids), ("state", "in", ("confirmed", "auto_confirmed"))]
        ):
            paid[match.sale_order_id.id] = (
                paid.get(match.sale_order_id.id, 0.0) + match.amount - match.writeoff_amount
            )
        records, candidates = {}, []
        for record in (*orders, *invoices):
            cid = len(records) + 1
            records[cid] = record
            candidates.append(
                self._prepare_candidate(cid, record, paid.get(record.id, 0.0), people)
            )
        return candidates, records

    @api.model
    def _candidate_people(self, partners):
        """partner id -> (commercial partner id, names, IBANs, e-mails) of it and its
        company, read in a few queries."""
        everyone = partners | partners.commercial_partner_id
        everyone.fetch(["name", "email", "bank_ids", "commercial_partner_id"])
        everyone.bank_ids.fetch(["sanitized_acc_number"])
        own = {
            p.id: (p.name, p.email, tuple(p.bank_ids.mapped("sanitized_acc_number")))
            for p in everyone
        }
        people = {}
        for partner in partners:
            commercial = partner.commercial_partner_id.id
            both = [own[partner.id]] + ([own[commercial]] if commercial != partner.id else [])
            people[partner.id] = (
                commercial,
                tuple(name for name, _e, _i in both if name),
                tuple(iban for _n, _e, ibans in both for iban in ibans),
                tuple(email for _n, email, _i in both if email),
            )
        return people

    @api.model
    def _prepare_candidate(self, cid, record, paid=0.0, people=None):
        people = people or self._candidate_people(record.partner_id)
        commercial, names, ibans, emails = people[record.partner_id.id]
        common = {
            "id": cid,
            "partner_id": commercial,
            "partner_names": names,
            "partner_ibans": ibans,
            "partner_emails": emails,
            "currency": record.currency_id.name,
        }
        if record._name == "sale.order":
            due = record.amount_total - paid
            return Candidate(
                kind="order",
                reference=record.name,
                shop_refs=_shop_refs(record),
                amount_due=_money(due),
                date=record.date_order.date(),
                **common,
            )
        ref = record.payment_reference or ""
        return Candidate(
            kind="invoice",
            reference=record.invoice_origin or "",
            invoice_number=record.name,
            structured_ref=ref if rf_is_valid(ref) else "",
            shop_refs=_shop_refs(record.invoice_line_ids.sale_line_ids.order_id),
            amount_due=_money(record.amount_residual),
            date=record.invoice_date,
            **common,
        )


def _shop_refs(orders):
    """The shop's own order numbers of ``orders`` (what PayPal and customers quote): the
    imported shop number and a customer reference holding a number (a marketplace's
    order id typed in by hand; a word like "Telefon" would be found in any purpose)."""
    refs = orders.mapped("shop_external_ref")
    refs += [ref for ref in orders.mapped("client_order_ref") if ref and _HAS_DIGIT.search(ref)]
    return tuple(sorted({ref.strip() for ref in refs if ref and ref.strip()}))


def _money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))
