from odoo.tests import HttpCase, new_test_user, tagged

from .common import ReviewRequestCase


@tagged("post_install", "-at_install")
class TestTourReview(HttpCase, ReviewRequestCase):
    """Configure a review platform and a rule in a real browser, then preview the mail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the tour builds its own configuration: start without platforms and rules
        cls.env["review.rule"].search([]).unlink()
        cls.env["review.platform"].search([]).action_archive()
        cls.tour_manager = new_test_user(
            cls.env,
            "review_tour_manager",
            groups="review_request.group_manager,mail_crm_shop.group_manager,"
            "sales_team.group_sale_salesman_all_leads",
            name="Rolf Reviewer",
        )
        customer = cls._create_partner(name="Rita Review", email="rita@example.com")
        cls.order = cls._create_sale_order(partner_id=customer.id, name="SO-REVIEW-0815")

    def test_configure_platform_and_rule_then_preview(self):
        self.start_tour(
            "/odoo", "review_request_configure_and_preview", login=self.tour_manager.login
        )

        platform = self.env["review.platform"].search([("name", "=", "Tour Reviews")])
        self.assertEqual(len(platform), 1)
        self.assertEqual(platform.platform_type, "trusted_shops")
        self.assertEqual(platform.url_template, "https://reviews.tour.example/write?order={order}")
        rule = self.env["review.rule"].search([])
        self.assertEqual(rule.platform_id, platform, "one rule, routing to the new platform")
        self.assertFalse(rule.product_id or rule.categ_id or rule.team_id, "the general link")
        self.assertEqual(rule.create_uid, self.tour_manager)
        # what the browser showed is what the invitation would carry
        request = self._create_review_request(sale_order_id=self.order.id)
        body = request._compose_body(track=False)
        self.assertIn("https://reviews.tour.example/write?order=SO-REVIEW-0815", body)
        self.assertFalse(self.env["review.request"].search([("id", "!=", request.id)]))
