from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import MailCrmShopCase

FRIDAY_4PM_BERLIN = datetime(2026, 3, 6, 15, 0)  # UTC
SATURDAY_NOON = datetime(2026, 3, 7, 12, 0)


@tagged("post_install", "-at_install")
class TestCaseSla(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.queue.write(
            {
                "sla_calendar_id": cls._create_resource_calendar().id,
                "sla_first_response_hours": 8,
                "sla_resolution_hours": 16,
            }
        )
        cls.marketplace = cls._create_queue(
            name="Marketplace", sla_first_response_hours=24, sla_calendar_hours=True
        )

    def _reply(self, case, user):
        case.with_user(user).message_post(
            body="Answer", message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def test_business_hours_deadlines_follow_the_resource_calendar(self):
        with freeze_time(FRIDAY_4PM_BERLIN):
            case = self._create_case()
        # 1 h on Friday (16-17 Berlin), 7 h on Monday: 8-12, 13-16 Berlin = 15:00 UTC
        self.assertEqual(case.sla_first_response_deadline, datetime(2026, 3, 9, 15, 0))
        # 8 more hours: Monday 16-17, Tuesday 8-12, 13-16 Berlin
        self.assertEqual(case.sla_resolution_deadline, datetime(2026, 3, 10, 15, 0))
        expected = self.queue.sla_calendar_id.plan_hours(8, FRIDAY_4PM_BERLIN)
        self.assertEqual(case.sla_first_response_deadline, expected.replace(tzinfo=None))

    def test_marketplace_rule_counts_the_weekend(self):
        with freeze_time(SATURDAY_NOON):
            case = self._create_case(queue_id=self.marketplace.id)
        self.assertEqual(case.sla_first_response_deadline, datetime(2026, 3, 8, 12, 0))
        self.assertFalse(case.sla_resolution_deadline)

    def test_queue_without_targets_sets_no_deadline(self):
        case = self._create_case(queue_id=self._create_queue(name="No SLA").id)
        self.assertFalse(case.sla_first_response_deadline)

    def test_first_reply_records_the_response_time(self):
        with freeze_time(SATURDAY_NOON):
            case = self._create_case(queue_id=self.marketplace.id)
        with freeze_time(SATURDAY_NOON + timedelta(hours=3, minutes=30)):
            self._reply(case, self.manager)
        with freeze_time(SATURDAY_NOON + timedelta(hours=5)):
            self._reply(case, self.manager)  # the first answer counts, not the last
        self.assertEqual(case.first_response_date, SATURDAY_NOON + timedelta(hours=3, minutes=30))
        self.assertEqual(case.time_to_first_response, 3.5)
        self.assertFalse(case.sla_breached)

    def test_late_first_reply_is_a_breach(self):
        with freeze_time(SATURDAY_NOON):
            case = self._create_case(queue_id=self.marketplace.id)
        with freeze_time(SATURDAY_NOON + timedelta(hours=25)):
            self._reply(case, self.manager)
        self.assertTrue(case.sla_breached)

    def test_cron_flags_overdue_cases_and_leaves_the_others(self):
        with freeze_time(FRIDAY_4PM_BERLIN):
            late = self._create_case()
            answered = self._create_case()
            self._reply(answered, self.manager)
        cron = self.env.ref("mail_crm_shop.ir_cron_flag_sla_breaches")
        with freeze_time(datetime(2026, 3, 9, 14, 59)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertFalse(late.sla_breached)
        with freeze_time(datetime(2026, 3, 9, 15, 1)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertTrue(late.sla_breached)
        self.assertFalse(answered.sla_breached)
        overdue = self.env["crm.shop.case"].search([("sla_breached", "=", True)])
        self.assertIn(late, overdue)

    def test_late_resolution_is_a_breach(self):
        with freeze_time(FRIDAY_4PM_BERLIN):
            case = self._create_case()
            self._reply(case, self.manager)
        with freeze_time(datetime(2026, 3, 10, 16, 0)):
            case.state = "done"
        self.assertEqual(case.done_date, datetime(2026, 3, 10, 16, 0))
        self.assertTrue(case.sla_breached)

    def test_business_hours_that_never_come_do_not_block_the_case(self):
        empty = self._create_resource_calendar(name="Never", attendance_ids=[(5, 0, 0)])
        queue = self._create_queue(
            name="Closed", sla_calendar_id=empty.id, sla_first_response_hours=8
        )
        case = self._create_case(queue_id=queue.id)
        self.assertFalse(case.sla_first_response_deadline)
        self.assertTrue(case.message_ids.filtered(lambda m: "No service level deadline" in m.body))

    def test_moving_the_case_to_another_queue_takes_its_targets(self):
        with freeze_time(SATURDAY_NOON):
            case = self._create_case(queue_id=self.marketplace.id)
        with freeze_time(SATURDAY_NOON + timedelta(hours=2)):
            case.queue_id = self.queue
        # received Saturday: 8 business hours from Monday 8:00 Berlin end 17:00 Berlin
        self.assertEqual(case.sla_first_response_deadline, datetime(2026, 3, 9, 16, 0))

    def test_closing_while_moving_records_the_resolution(self):
        with freeze_time(SATURDAY_NOON):
            case = self._create_case(queue_id=self.marketplace.id)
        with freeze_time(SATURDAY_NOON + timedelta(hours=1)):
            case.write({"queue_id": self.queue.id, "state": "done"})
        self.assertEqual(case.done_date, SATURDAY_NOON + timedelta(hours=1))
        self.assertEqual(case.sla_first_response_deadline, datetime(2026, 3, 9, 16, 0))
        self.assertFalse(case.sla_breached)
