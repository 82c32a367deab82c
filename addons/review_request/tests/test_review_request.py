from psycopg2 import IntegrityError

from odoo.tests import tagged
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
