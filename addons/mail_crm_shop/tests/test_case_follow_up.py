from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MailCrmShopCase

DUE = datetime(2026, 3, 10, 8, 0)


@tagged("post_install", "-at_install")
class TestCaseFollowUp(MailCrmShopCase):
    def _run_cron(self, when):
        cron = self.env.ref("mail_crm_shop.ir_cron_follow_up_due")
        with freeze_time(when), self.enter_registry_test_mode():
            cron.method_direct_trigger()

    def test_due_follow_up_reopens_and_reminds_the_assignee(self):
        case = self._create_case(
            user_id=self.agent.id,
            state="wait_customer",
            follow_up_date=DUE,
            follow_up_note="Check whether the refund arrived",
        )
        self._run_cron(DUE - timedelta(minutes=1))
        self.assertEqual(case.state, "wait_customer")
        self.assertFalse(case.activity_ids)

        self._run_cron(DUE + timedelta(minutes=1))
        self.assertEqual(case.state, "in_progress")
        self.assertEqual(case.activity_ids.user_id, self.agent)
        self.assertIn("Check whether the refund arrived", case.activity_ids.note)
        self.assertTrue(
            case.message_ids.filtered(lambda m: "Check whether the refund arrived" in m.body)
        )
        self.assertFalse(case.follow_up_date)

        self._run_cron(DUE + timedelta(hours=1))  # handled once, not every run
        self.assertEqual(len(case.activity_ids), 1)

    def test_failing_follow_up_stays_due_and_the_next_run_handles_it(self):
        broken = self._create_case(user_id=self.agent.id, follow_up_date=DUE, name="Broken")
        fine = self._create_case(user_id=self.agent.id, follow_up_date=DUE, name="Fine")
        schedule = type(broken).activity_schedule

        def flaky(records, *args, **kwargs):
            if records.name == "Broken":
                raise ValueError("simulated failure")
            return schedule(records, *args, **kwargs)

        with (
            patch.object(type(broken), "activity_schedule", flaky),
            mute_logger("odoo.addons.mail_crm_shop.models.crm_shop_case_follow_up"),
        ):
            self._run_cron(DUE)
        self.assertEqual(broken.follow_up_date, DUE)  # nothing half done, still due
        self.assertFalse(broken.activity_ids)
        self.assertEqual(fine.state, "in_progress")
        self.assertTrue(fine.activity_ids)

        self._run_cron(DUE + timedelta(minutes=15))
        self.assertFalse(broken.follow_up_date)
        self.assertEqual(broken.activity_ids.user_id, self.agent)

    def test_unassigned_follow_up_reminds_every_queue_member(self):
        case = self._create_case(state="wait_third", follow_up_date=DUE)
        self._run_cron(DUE)
        self.assertEqual(case.activity_ids.user_id, self.agent | self.other_agent)
        self.assertEqual(case.state, "in_progress")

    def test_follow_up_goes_into_the_calendar(self):
        case = self._create_case(follow_up_date=DUE, follow_up_note="Call back")
        case.with_user(self.agent).action_follow_up_to_calendar()
        event = case.follow_up_event_id
        self.assertEqual(event.start, DUE)
        self.assertEqual(event.res_id, case.id)
        self.assertIn(self.agent.partner_id, event.partner_ids)
        case.follow_up_date = DUE + timedelta(days=1)
        case.with_user(self.agent).action_follow_up_to_calendar()
        self.assertEqual(case.follow_up_event_id, event)
        self.assertEqual(event.start, DUE + timedelta(days=1))

    def test_calendar_needs_a_follow_up_date(self):
        with self.assertRaises(UserError):
            self._create_case().action_follow_up_to_calendar()


@tagged("post_install", "-at_install")
class TestCasePhoneNote(MailCrmShopCase):
    def test_phone_note_appears_in_the_time_line(self):
        case = self._create_case()
        note = (
            self.env["crm.shop.phone.note"]
            .with_user(self.agent)
            .create(
                {
                    "case_id": case.id,
                    "caller": "Erika Muster",
                    "phone": "+49 30 123456",
                    "direction": "inbound",
                    "duration": 4.5,
                    "note": "Parcel arrived damaged",
                }
            )
        )
        message = note.message_id
        self.assertEqual(message.subtype_id, self.env.ref("mail_crm_shop.mt_phone_note"))
        self.assertEqual(message.res_id, case.id)
        self.assertIn("Parcel arrived damaged", message.body)
        self.assertIn("+49 30 123456", message.body)
        self.assertIn("Incoming call", message.body)

    def test_negative_duration_is_refused(self):
        with (
            self.assertRaises(IntegrityError),
            self.cr.savepoint(),
            mute_logger("odoo.sql_db"),
        ):
            self.env["crm.shop.phone.note"].create(
                {"case_id": self._create_case().id, "caller": "X", "duration": -1, "note": "x"}
            )


@tagged("post_install", "-at_install")
class TestCaseFolderAndPrivacy(MailCrmShopCase):
    def test_folders_are_hierarchical(self):
        returns = self._create_folder()
        damaged = self._create_folder(name="Damaged", parent_id=returns.id)
        self._create_case(folder_id=damaged.id)
        self._create_case(folder_id=returns.id)
        self.assertEqual(damaged.display_name, "Returns / Damaged")
        self.assertEqual(returns.case_count, 2)
        self.assertEqual(damaged.case_count, 1)
        with self.assertRaises(UserError):  # Odoo's parent store refuses it first
            returns.parent_id = damaged

    def test_only_managers_manage_folders(self):
        with self.assertRaises(AccessError):
            self.env["crm.shop.folder"].with_user(self.agent).create({"name": "Mine"})
        folder = self.env["crm.shop.folder"].with_user(self.manager).create({"name": "Shared"})
        folder.with_user(self.agent).check_access("read")

    def test_private_case_stays_private_after_reassignment(self):
        case = self._create_case(user_id=self.agent.id, is_private=True)
        case.user_id = self.other_agent
        case.with_user(self.other_agent).check_access("read")
        with self.assertRaises(AccessError):
            case.with_user(self.agent).check_access("read")

    def test_private_case_is_not_found_by_another_member(self):
        case = self._create_case(user_id=self.agent.id, is_private=True)
        found = self.env["crm.shop.case"].with_user(self.other_agent).search([("id", "=", case.id)])
        self.assertFalse(found)
        with self.assertRaises(AccessError):
            case.with_user(self.other_agent).message_post(body="hello", message_type="comment")

    def test_private_case_phone_notes_are_private_too(self):
        case = self._create_case(user_id=self.agent.id, is_private=True)
        note = self.env["crm.shop.phone.note"].create(
            {"case_id": case.id, "caller": "X", "note": "secret"}
        )
        note.with_user(self.agent).check_access("read")
        with self.assertRaises(AccessError):
            note.with_user(self.other_agent).check_access("read")


@tagged("post_install", "-at_install")
class TestCaseFollowUpPrivate(MailCrmShopCase):
    def test_private_follow_up_reminds_only_who_may_read_it(self):
        case = self._create_case(is_private=True, follow_up_date=DUE, state="wait_customer")
        cron = self.env.ref("mail_crm_shop.ir_cron_follow_up_due")
        with freeze_time(DUE), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertFalse(case.activity_ids)  # no queue member may read it
        self.assertEqual(case.state, "in_progress")
        self.assertFalse(case.follow_up_date)
