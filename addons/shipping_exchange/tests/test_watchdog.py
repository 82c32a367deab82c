from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import FakeTransport, ShippingExchangeCase

T0 = datetime(2026, 11, 20, 8, 0)


@tagged("post_install", "-at_install")
class TestWatchdog(ShippingExchangeCase):
    def test_unconfirmed_delivery_becomes_one_case_in_the_profile_queue(self):
        queue = self.env["crm.shop.queue"].create(
            {"name": "Shipping", "sla_first_response_hours": 4, "sla_calendar_hours": True}
        )
        profile = self._create_profile(confirmation_hours=24, case_queue_id=queue.id)
        picking = self._create_ready_picking()
        record = self._create_record(profile_id=profile.id, picking_id=picking.id)
        self._use_transport(FakeTransport())
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(record.state, "sent")

        self._run_cron("ir_cron_watch_confirmations", T0 + timedelta(hours=23))
        self.assertFalse(record.case_id)

        self._run_cron("ir_cron_watch_confirmations", T0 + timedelta(hours=25))
        case = record.case_id
        self.assertTrue(case)
        self.assertEqual(case.queue_id, queue)
        self.assertEqual(case.shipping_exchange_record_id, record)
        self.assertEqual(case.partner_id, picking.partner_id)
        self.assertEqual(case.sla_first_response_deadline, T0 + timedelta(hours=29))
        self.assertIn(picking.name, case.name)

        self._run_cron("ir_cron_watch_confirmations", T0 + timedelta(hours=48))
        cases = self.env["crm.shop.case"].search([("shipping_exchange_record_id", "=", record.id)])
        self.assertEqual(cases, case)

    def test_confirmed_delivery_never_becomes_a_case(self):
        profile = self._create_profile(confirmation_hours=2)
        record = self._create_record(profile_id=profile.id, state="confirmed", sent_date=T0)
        self._run_cron("ir_cron_watch_confirmations", T0 + timedelta(hours=5))
        self.assertFalse(record.case_id)
