from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import MailCrmShopCase

MONDAY_8AM_BERLIN = datetime(2026, 11, 23, 7, 0)  # UTC


@tagged("post_install", "-at_install")
class TestDefaultExceptionQueue(MailCrmShopCase):
    """An exception case opened without a configured queue lands in the company's
    "Exceptions" queue, which has service level targets: it has an owner and a deadline."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.Queue = cls.env["crm.shop.queue"]
        cls.shop_company = cls.env["res.company"].create({"name": "Beispiel-Shop GmbH"})
        cls.shop_company.resource_calendar_id = cls._create_resource_calendar(
            company_id=cls.shop_company.id
        )

    def test_created_once_per_company_in_business_hours(self):
        queue = self.Queue._shop_exception_queue(self.shop_company)
        self.assertEqual(queue.company_id, self.shop_company)
        self.assertEqual(queue.with_context(lang="en_US").name, "Exceptions")
        self.assertEqual(queue.with_context(lang="de_DE").name, "Ausnahmen")
        self.assertEqual(queue.sla_calendar_id, self.shop_company.resource_calendar_id)
        self.assertEqual(self.Queue._shop_exception_queue(self.shop_company), queue)
        self.assertEqual(
            self.Queue._shop_exception_queue(self.env.company).company_id, self.env.company
        )
        self.assertNotEqual(self.Queue._shop_exception_queue(self.env.company), queue)

        with freeze_time(MONDAY_8AM_BERLIN):
            case = self._create_case(queue_id=queue.id, company_id=self.shop_company.id)
        # 4 working hours: Monday 8-12 Berlin; 16: Monday and Tuesday 8-12, 13-17 Berlin
        self.assertEqual(case.sla_first_response_deadline, datetime(2026, 11, 23, 11, 0))
        self.assertEqual(case.sla_resolution_deadline, datetime(2026, 11, 24, 16, 0))

    def test_configured_queue_wins(self):
        configured = self._create_queue(name="Versand")
        self.assertEqual(
            self.Queue._shop_exception_queue(self.shop_company, configured), configured
        )
        self.assertFalse(
            self.env["ir.model.data"].search_count(
                [("model", "=", "crm.shop.queue"), ("res_id", "=", configured.id)]
            )
        )

    def test_company_without_business_hours_counts_every_hour(self):
        company = self.env["res.company"].create({"name": "Nachtshop UG"})
        company.resource_calendar_id = False
        queue = self.Queue._shop_exception_queue(company)
        self.assertTrue(queue.sla_calendar_hours)
        with freeze_time(MONDAY_8AM_BERLIN):
            case = self._create_case(queue_id=queue.id, company_id=company.id)
        self.assertEqual(case.sla_first_response_deadline, MONDAY_8AM_BERLIN + timedelta(hours=24))
        self.assertEqual(case.sla_resolution_deadline, MONDAY_8AM_BERLIN + timedelta(hours=72))

    def test_a_deleted_default_queue_is_created_again(self):
        queue = self.Queue._shop_exception_queue(self.shop_company)
        queue.unlink()
        again = self.Queue._shop_exception_queue(self.shop_company)
        self.assertTrue(again.exists())
        self.assertNotEqual(again, queue)
        self.assertEqual(self.Queue._shop_exception_queue(self.shop_company), again)

    def test_the_team_of_the_company_are_members(self):
        queue = self.Queue._shop_exception_queue(self.env.company)
        self.assertIn(self.agent, queue.member_ids, "a team member sees the exception cases")
        self.assertIn(self.other_agent, queue.member_ids)
        case = self._create_case(queue_id=queue.id)
        self.assertEqual(
            self.env["crm.shop.case"].with_user(self.agent).search([("id", "=", case.id)]), case
        )
        elsewhere = self.Queue._shop_exception_queue(self.shop_company)
        self.assertNotIn(self.agent, elsewhere.member_ids, "not a user of that company")
