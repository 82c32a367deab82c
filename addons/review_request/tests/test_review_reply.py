from pathlib import Path

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ReviewRequestCase

DATA = Path(__file__).parent / "data"


@tagged("post_install", "-at_install")
class TestReviewReply(ReviewRequestCase):
    def setUp(self):
        super().setUp()
        self.request = self._create_review_request()
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.invitation = self._invitations(self.request)
        self.assertEqual(len(self.invitation), 1)

    def _receive(self, name):
        raw = (DATA / name).read_text().replace("__IN_REPLY_TO__", self.invitation.message_id)
        self.env["mail.thread"].message_process(None, raw.encode())
        return self.env["crm.shop.case"].search([("review_request_id", "=", self.request.id)])

    def test_complaint_becomes_a_high_priority_case_of_the_order(self):
        case = self._receive("reply_complaint.eml")
        self.assertEqual(len(case), 1)
        self.assertEqual(case.sale_order_id, self.request.sale_order_id)
        self.assertEqual(case.partner_id, self.request.partner_id)
        self.assertTrue(case.is_review_feedback)
        self.assertEqual(case.priority, "1")
        self.assertIn("kaputt", case.description)
        self.assertTrue(self.request.complaint)
        self.assertEqual(self.request.reply_count, 1)
        self.assertIn("kaputt", self.request.message_ids[0].body, "reply kept on the request")

    def test_reply_lands_in_the_review_queue_else_the_exception_queue(self):
        self.request.team_id.review_queue_id = False
        case = self._receive("reply_complaint.eml")
        default = self.env["crm.shop.queue"]._shop_exception_queue(self.request.company_id)
        self.assertEqual(case.queue_id, default, "an owner even without a review queue")
        self.assertTrue(case.sla_resolution_deadline, "and a deadline")

    def test_thanks_is_a_normal_case_and_stops_the_reminder(self):
        case = self._receive("reply_thanks.eml")
        self.assertEqual(case.priority, "0")
        self.assertFalse(self.request.complaint)
        with freeze_time("2026-04-10 08:00:00"):
            self._run_cron()
        self.assertEqual(len(self._invitations(self.request)), 1, "no reminder after a reply")

    def test_out_of_office_answer_opens_no_case(self):
        self.assertFalse(self._receive("reply_out_of_office.eml"))
        self.assertIn("nicht im Büro", self.request.message_ids[0].body, "kept in the chatter")
        self.assertEqual(self.request.reply_count, 0)
