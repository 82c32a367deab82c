from odoo.tests import TransactionCase


class ReviewRequestCase(TransactionCase):
    """Builders for the review request tests; no demo data is assumed."""

    @classmethod
    def _create_sale_order(cls, **overrides):
        partner = cls.env["res.partner"].create({"name": "Max Mustermann", "email": "max@ex.com"})
        return cls.env["sale.order"].create({"partner_id": partner.id, **overrides})

    @classmethod
    def _create_review_request(cls, **overrides):
        vals = {
            "sale_order_id": overrides.pop("sale_order_id", None) or cls._create_sale_order().id,
            **overrides,
        }
        return cls.env["review.request"].create(vals)
