from datetime import datetime

from odoo.tests import HttpCase, new_test_user, tagged

from .common import MailCrmShopCase


@tagged("post_install", "-at_install")
class TestTourInbox(HttpCase, MailCrmShopCase):
    """The team inbox in a real browser: take a case, reply with a text block, follow up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tour_agent = new_test_user(
            cls.env,
            "tour_agent",
            groups="mail_crm_shop.group_user,sales_team.group_sale_salesman",
            name="Tina Tour",
            tz="UTC",
        )
        cls.tour_queue = cls._create_queue(name="Tour service", member_ids=[cls.tour_agent.id])
        cls.customer = cls._create_partner(name="Erika Tour", email="erika.tour@example.com")
        cls.order = cls._create_sale_order(cls.customer, name="SO-TOUR-4711")
        cls.block = cls._create_text_block(
            name="Tour parcel status",
            body="<p>Hello {{customer_name}}, your order {{last_order_number}} is on its way.</p>",
            queue_ids=[cls.tour_queue.id],
        )
        cls.case = cls._create_case(
            name="Tour parcel question",
            queue_id=cls.tour_queue.id,
            partner_id=cls.customer.id,
            email_from=cls.customer.email,
        )

    def test_take_reply_with_text_block_and_follow_up(self):
        self.assertFalse(self.case.user_id)
        self.assertFalse(self.case.lock_user_id)

        self.start_tour("/odoo", "mail_crm_shop_team_inbox", login=self.tour_agent.login)

        case = self.case
        case.invalidate_recordset()
        self.assertEqual(case.user_id, self.tour_agent)
        self.assertEqual(case.lock_user_id, self.tour_agent)
        self.assertEqual(case.state, "in_progress")
        replies = case.message_ids.filtered(
            lambda m: m.message_type == "comment" and m.author_id == self.tour_agent.partner_id
        )
        self.assertEqual(len(replies), 1, "exactly one reply was sent")
        self.assertIn(f"[#{case.number}]", replies.subject)
        self.assertIn("Hello Erika Tour, your order SO-TOUR-4711 is on its way.", str(replies.body))
        self.assertNotIn("{{", str(replies.body))
        self.assertIn(self.customer, replies.partner_ids)
        self.assertTrue(case.first_response_date, "the reply counts as first response")
        self.assertEqual(case.follow_up_date, datetime(2099, 12, 24, 9, 30))
        self.assertEqual(case.follow_up_note, "Ask the carrier again")
