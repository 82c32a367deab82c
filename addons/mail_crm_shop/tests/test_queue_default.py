from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import ConcurrencyError
from odoo.tests import new_test_user, tagged

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

    def _registered(self, company):
        return self.env["ir.model.data"].search(
            [
                ("module", "=", "mail_crm_shop"),
                ("name", "=", f"crm_shop_queue_exceptions_company_{company.id}"),
            ]
        )

    def test_a_new_company_has_its_queue_from_the_start(self):
        company = self.env["res.company"].create({"name": "Neuer Shop KG"})
        known = self._registered(company)
        self.assertEqual(len(known), 1, "created with the company, not on first use")
        queue = self.Queue.browse(known.res_id)
        self.assertEqual(queue.company_id, company)
        self.assertEqual(queue.sla_calendar_id, company.resource_calendar_id)
        self.assertEqual(self.Queue._shop_exception_queue(company), queue)
        self.assertEqual(self.Queue.search_count([("company_id", "=", company.id)]), 1)

    def test_companies_without_a_queue_get_one_at_install(self):
        company = self.env["res.company"].create({"name": "Altbestand AG"})
        queue = self.Queue._shop_exception_queue(company)
        queue.unlink()  # as a database from before the queue was created with the company
        self.Queue._shop_create_missing_default_queues()
        again = self.Queue.browse(self._registered(company).res_id)
        self.assertTrue(again.exists())
        self.assertEqual(again.company_id, company)
        self.Queue._shop_create_missing_default_queues()
        self.assertEqual(self.Queue.search_count([("company_id", "=", company.id)]), 1)

    def test_a_concurrent_creation_is_retried_not_doubled(self):
        """The transaction that loses the race cannot see the winner's queue (its
        snapshot is older): it gets a retryable ConcurrencyError, no second queue, and
        its transaction stays usable."""
        company = self.env["res.company"].create({"name": "Wettlauf OHG"})
        winner = self.Queue._shop_exception_queue(company)
        queues = self.Queue.search_count([])
        unseen = patch.object(
            type(self.Queue),
            "_shop_default_queue_data",
            lambda self, company: self.env["ir.model.data"],
        )
        with unseen, self.assertRaises(ConcurrencyError):
            self.Queue._shop_default_exception_queue_id(company)
        self.assertEqual(self.Queue.search_count([]), queues, "no second queue")
        self.assertEqual(self.Queue._shop_exception_queue(company), winner)

    def test_new_team_members_join_the_default_queues(self):
        queue = self.Queue._shop_exception_queue(self.env.company)
        newcomer = new_test_user(self.env, "inbox_newcomer", groups="mail_crm_shop.group_user")
        self.assertIn(newcomer, queue.member_ids)
        outsider = new_test_user(self.env, "outsider", groups="base.group_user")
        self.assertNotIn(outsider, queue.member_ids)
        outsider.group_ids |= self.env.ref("mail_crm_shop.group_user")
        self.assertIn(outsider, queue.member_ids, "joined the team later")
        other = self.Queue._shop_exception_queue(self.shop_company)
        self.assertNotIn(newcomer, other.member_ids)
        newcomer.company_ids |= self.shop_company
        self.assertIn(newcomer, other.member_ids, "now works for that company too")
        # a manager trims the queue: later edits of the user do not add them back
        queue.member_ids -= newcomer
        newcomer.write(
            {"name": "Nora Newcomer", "group_ids": [(4, self.env.ref("base.group_user").id)]}
        )
        self.assertNotIn(newcomer, queue.member_ids)

    def test_the_queue_follows_the_company_business_hours(self):
        company = self.env["res.company"].create({"name": "Stundenshop GmbH"})
        queue = self.Queue._shop_exception_queue(company)
        self.assertFalse(queue.sla_calendar_hours)
        company.resource_calendar_id = False
        self.assertTrue(queue.sla_calendar_hours, "no business hours: around the clock")
        self.assertEqual(queue.sla_first_response_hours, 24.0)
        calendar = self._create_resource_calendar(company_id=company.id)
        company.resource_calendar_id = calendar
        self.assertEqual(queue.sla_calendar_id, calendar)
        self.assertFalse(queue.sla_calendar_hours)
        self.assertEqual(queue.sla_first_response_hours, 4.0)
        # a manager's own targets and hours stay when the company's change
        own = self._create_resource_calendar(company_id=company.id)
        queue.write({"sla_calendar_id": own.id, "sla_first_response_hours": 2.0})
        company.resource_calendar_id = self._create_resource_calendar(company_id=company.id)
        self.assertEqual(queue.sla_calendar_id, own)
        self.assertEqual(queue.sla_first_response_hours, 2.0)
