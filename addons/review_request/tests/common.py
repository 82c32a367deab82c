import itertools
from datetime import datetime

from odoo import Command
from odoo.tests import TransactionCase

SHIPPED = datetime(2026, 3, 2, 10, 0)
_BARCODES = itertools.count(1)


class ReviewRequestCase(TransactionCase):
    """Builders for the review request tests; no demo data is assumed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.team = cls._create_team()
        cls.shop = cls._create_platform(
            name="Shop",
            platform_type="shop",
            url_template="https://shop.example/review/{ean}?order={order}",
            supports_product_reviews=True,
        )
        cls.google = cls._create_platform(
            name="Google", platform_type="google", url_template="https://g.page/r/shop/review"
        )
        cls.general_rule = cls._create_rule(platform_id=cls.shop.id)
        cls.blocks = cls._create_blocks()

    @classmethod
    def _create_team(cls, **overrides):
        vals = {"name": "Webshop", "review_delay_days": 7, "review_reminder_days": 5}
        return cls.env["crm.team"].create({**vals, **overrides})

    @classmethod
    def _create_platform(cls, **overrides):
        vals = {"name": "Any", "url_template": "https://reviews.example/{order}"}
        return cls.env["review.platform"].create({**vals, **overrides})

    @classmethod
    def _create_rule(cls, **overrides):
        return cls.env["review.rule"].create(overrides)

    @classmethod
    def _create_blocks(cls):
        return cls.env["review.mail.block"].create(
            [
                {
                    "name": "Greeting",
                    "kind": "greeting",
                    "sequence": 1,
                    "body": "<p>Hi {customer},</p>",
                },
                {
                    "name": "Product",
                    "kind": "product",
                    "sequence": 20,
                    "body": "<p>{product}: {link}</p>",
                },
                {
                    "name": "Link",
                    "kind": "link",
                    "sequence": 30,
                    "body": "<p>{platform}: {link}</p>",
                },
                {"name": "Legal", "kind": "legal", "sequence": 90, "body": "<p>{optout_link}</p>"},
            ]
        )

    @classmethod
    def _create_partner(cls, **overrides):
        vals = {"name": "Max Mustermann", "email": "max@example.com", "review_consent": True}
        return cls.env["res.partner"].create({**vals, **overrides})

    @classmethod
    def _create_product(cls, **overrides):
        vals = {"name": "Green tea", "type": "consu", "barcode": "40063813%05d" % next(_BARCODES)}
        return cls.env["product.product"].create({**vals, **overrides})

    @classmethod
    def _create_sale_order(cls, products=None, **overrides):
        partner = overrides.pop("partner_id", None) or cls._create_partner().id
        lines = [
            Command.create({"product_id": product.id, "product_uom_qty": 1})
            for product in (products if products is not None else cls._create_product())
        ]
        vals = {"partner_id": partner, "team_id": cls.team.id, "order_line": lines}
        return cls.env["sale.order"].create({**vals, **overrides})

    @classmethod
    def _create_review_request(cls, **overrides):
        vals = {
            "sale_order_id": overrides.pop("sale_order_id", None) or cls._create_sale_order().id,
            "shipped_date": SHIPPED,
            **overrides,
        }
        return cls.env["review.request"].create(vals)

    def _run_cron(self):
        cron = self.env.ref("review_request.ir_cron_send_due")
        if type(self)._registry_patched:  # HttpCase runs in registry test mode already
            cron.method_direct_trigger()
        else:
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()
        self.env.invalidate_all()

    def _invitations(self, request):
        """Mails posted to the customer from the request (invitation and reminder)."""
        return request.message_ids.filtered(
            lambda m: m.message_type == "comment" and request.partner_id in m.partner_ids
        )
