from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ShippingExchangeCase


@tagged("post_install", "-at_install")
class TestExchangeRecord(ShippingExchangeCase):
    def test_one_outgoing_record_per_delivery_and_profile(self):
        record = self._create_record()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._create_record(profile_id=record.profile_id.id, picking_id=record.picking_id.id)

    def test_cancelled_record_can_be_sent_again(self):
        record = self._create_record()
        record.action_cancel()
        again = self._create_record(
            profile_id=record.profile_id.id, picking_id=record.picking_id.id
        )
        self.assertEqual(again.state, "pending")
        self.assertEqual(record.picking_id.shipping_exchange_record_ids, record | again)

    def test_retry_and_cancel_respect_the_state(self):
        failed = self._create_record(state="failed", attempt_count=3)
        failed.action_retry()
        self.assertEqual(failed.state, "pending")
        confirmed = self._create_record(state="confirmed")
        confirmed.action_cancel()
        self.assertEqual(confirmed.state, "confirmed")
