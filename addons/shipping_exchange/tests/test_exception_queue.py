from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import FakeTransport, ShippingExchangeCase

T0 = datetime(2026, 11, 23, 8, 0)


@tagged("post_install", "-at_install")
class TestExceptionCaseQueue(ShippingExchangeCase):
    """Every case the exchange opens on its own has a queue with service levels, even
    where nobody configured one: the company's default exceptions queue."""

    def _assert_owned_with_deadline(self, case, company):
        default = self.env["crm.shop.queue"]._shop_exception_queue(company)
        self.assertEqual(case.queue_id, default)
        self.assertEqual(case.company_id, company)
        self.assertTrue(default.sla_first_response_hours and default.sla_resolution_hours)
        self.assertTrue(case.sla_first_response_deadline)
        self.assertTrue(case.sla_resolution_deadline)
        self.assertGreater(case.sla_resolution_deadline, case.sla_start_date)

    def test_delivery_no_carrier_can_take_is_a_case_in_the_exceptions_queue(self):
        self._create_rule(name="Austria only", country_ids=[(6, 0, self.env.ref("base.at").ids)])
        picking = self._create_ready_picking()
        self.assertTrue(picking.shipping_exchange_held)
        case = picking.shipping_exchange_case_id
        self.assertIn(picking.name, case.name)
        self._assert_owned_with_deadline(case, picking.company_id)

    def test_missing_confirmation_without_a_profile_queue(self):
        profile = self._create_profile(confirmation_hours=24)
        self.assertFalse(profile.case_queue_id)
        picking = self._create_ready_picking()
        record = self._create_record(profile_id=profile.id, picking_id=picking.id)
        self._use_transport(FakeTransport())
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(record.state, "sent")
        self._run_cron("ir_cron_watch_confirmations", T0 + timedelta(hours=25))
        case = record.case_id
        self.assertEqual(case.shipping_exchange_record_id, record)
        self._assert_owned_with_deadline(case, picking.company_id)

    def test_a_configured_profile_queue_still_wins(self):
        queue = self.env["crm.shop.queue"].create(
            {"name": "Versand", "sla_first_response_hours": 2, "sla_calendar_hours": True}
        )
        profile = self._create_profile(confirmation_hours=1, case_queue_id=queue.id)
        record = self._create_record(profile_id=profile.id, state="sent", sent_date=T0)
        self._run_cron("ir_cron_watch_confirmations", T0 + timedelta(hours=2))
        self.assertEqual(record.case_id.queue_id, queue)
