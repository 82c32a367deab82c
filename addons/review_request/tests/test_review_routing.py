from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ReviewRequestCase


@tagged("post_install", "-at_install")
class TestReviewRouting(ReviewRequestCase):
    def _links(self, order):
        request = self._create_review_request(sale_order_id=order.id)
        return [(p, prod) for p, prod in request._route_links()]

    def test_general_link_when_no_rule_matches(self):
        self.general_rule.platform_id = self.google
        links = self._links(self._create_sale_order())
        self.assertEqual(links, [(self.google, self.env["product.product"])])

    def test_product_beats_category_beats_team(self):
        parent = self.env["product.category"].create({"name": "Drinks"})
        child = self.env["product.category"].create({"name": "Tea", "parent_id": parent.id})
        tea = self._create_product(categ_id=child.id)
        mug = self._create_product(name="Mug", barcode="4006381333948", categ_id=parent.id)
        jar = self._create_product(name="Jar", barcode="4006381333955")
        amazon = self._create_platform(
            name="Amazon",
            url_template="https://amazon.example/{ean}",
            supports_product_reviews=True,
        )
        self._create_rule(platform_id=self.shop.id, team_id=self.team.id)
        self._create_rule(platform_id=amazon.id, categ_id=parent.id)
        self._create_rule(platform_id=self.shop.id, product_id=tea.id)
        links = self._links(self._create_sale_order(products=tea | mug | jar))
        self.assertEqual(links, [(self.shop, tea), (amazon, mug), (self.shop, jar)])

    def test_team_rule_only_for_its_team(self):
        other_team = self._create_team(name="Marketplace")
        self._create_rule(platform_id=self.google.id, team_id=other_team.id)
        links = self._links(self._create_sale_order())
        self.assertEqual([p for p, _prod in links], [self.shop])

    def test_unknown_placeholder_rejected_at_save(self):
        with self.assertRaisesRegex(ValidationError, "unknown placeholder"):
            self._create_platform(url_template="https://x.example/{customer}")
        with self.assertRaisesRegex(ValidationError, "unknown placeholder"):
            self.blocks[0].body = "<p>Hi {product}</p>"

    def test_preview_renders_the_mail_in_the_customer_language(self):
        order = self._create_sale_order(products=self._create_product(barcode="4006381333931"))
        request = self._create_review_request(sale_order_id=order.id)
        self.assertIn("Hi Max Mustermann", request.body_preview)
        self.assertIn(
            "https://shop.example/review/4006381333931?order=%s" % order.name, request.body_preview
        )
        self.assertFalse(request.link_tracker_ids, "a preview creates no tracked links")

    def test_preview_wizard_for_a_chosen_order(self):
        order = self._create_sale_order(products=self._create_product(name="Black tea"))
        preview = self.env["review.mail.preview"].create({"sale_order_id": order.id})
        self.assertIn("Black tea", preview.body)
        self.assertIn("/review/optout/preview", preview.body)
        self.assertFalse(self.env["review.request"].search([("sale_order_id", "=", order.id)]))
        self.blocks.filtered(lambda b: b.kind == "legal").active = False
        preview.invalidate_recordset(["body"])
        self.assertIn("legal notice", preview.body)

    def test_mail_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        greeting = self.blocks.filtered(lambda b: b.kind == "greeting")
        # Html(translate=True) is translated term by term (html_translate)
        greeting.update_field_translations(
            "body", {"de_DE": {"Hi {customer},": "Hallo {customer},"}}
        )
        german = self._create_partner(name="Erika", lang="de_DE")
        request = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=german.id).id
        )
        self.assertIn("Hallo Erika", request.body_preview)
        english = self._create_partner(lang="en_US")
        request = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=english.id).id
        )
        self.assertIn("Hi Max", request.body_preview)

    def test_rules_of_archived_platforms_are_ignored(self):
        self._create_rule(platform_id=self.google.id, team_id=self.team.id)
        self.google.active = False
        links = self._links(self._create_sale_order())
        self.assertEqual([p for p, _prod in links], [self.shop])
