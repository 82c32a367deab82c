from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged, users
from odoo.tools import mute_logger

from .common import ReviewRequestCase


@tagged("post_install", "-at_install")
class TestReviewRequest(ReviewRequestCase):
    def test_one_request_per_sale_order(self):
        request = self._create_review_request()
        self.assertEqual(request.partner_id, request.sale_order_id.partner_id)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._create_review_request(sale_order_id=request.sale_order_id.id)

    def test_cancel_only_before_sending(self):
        scheduled, sent = self._create_review_request(), self._create_review_request(state="sent")
        (scheduled | sent).action_cancel()
        self.assertEqual(scheduled.state, "cancel")
        self.assertEqual(sent.state, "sent")

    def test_statistics_per_platform_and_team(self):
        sent, clicked, opted_out = (self._create_review_request() for _i in range(3))
        with freeze_time("2026-03-10 08:00:00"):
            self._run_cron()
        self.assertEqual((sent | clicked | opted_out).mapped("state"), ["sent"] * 3)
        clicked._mark_clicked()
        opted_out._opt_out()
        groups = self.env["review.request"]._read_group(
            [("id", "in", (sent | clicked | opted_out).ids)],
            ["platform_id", "team_id"],
            ["sent_count:sum", "clicked_count:sum", "opted_out_count:sum"],
        )
        self.assertEqual(groups, [(self.shop, self.team, 3, 1, 1)])

    @users("review_user")
    def test_users_see_requests_managers_configure(self):
        request = self._create_review_request().with_env(self.env)
        self.assertEqual(request.read(["state"])[0]["state"], "scheduled")
        with self.assertRaises(AccessError):
            self.env["review.rule"].create({"platform_id": self.google.id})
        with self.assertRaises(AccessError):
            self.env["review.mail.block"].create({"name": "x", "kind": "help"})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(cls.env, "review_user", groups="review_request.group_user")
