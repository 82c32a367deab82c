from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import MailCrmShopCase

T0 = datetime(2026, 3, 2, 9, 0)


@tagged("post_install", "-at_install")
class TestCaseLock(MailCrmShopCase):
    def setUp(self):
        super().setUp()
        self.case = self._create_case(partner_id=self._create_partner().id)

    def _reply(self, user, body="We are on it."):
        return self.case.with_user(user).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def test_work_on_this_locks_for_the_user(self):
        with freeze_time(T0):
            self.case.with_user(self.agent).action_lock()
        self.assertEqual(self.case.lock_user_id, self.agent)
        self.assertEqual(self.case.lock_date, T0)
        self.assertEqual(self.case.state, "in_progress")

    def test_second_user_can_neither_lock_nor_reply(self):
        self.case.with_user(self.agent).action_lock()
        with self.assertRaisesRegex(UserError, "Anton Agent"):
            self.case.with_user(self.other_agent).action_lock()
        count = len(self.case.message_ids)
        with self.assertRaisesRegex(UserError, "being worked on by Anton Agent"):
            self._reply(self.other_agent)
        self.assertEqual(len(self.case.message_ids), count)
        self.assertEqual(self.case.lock_user_id, self.agent)

    def test_internal_notes_are_allowed_while_locked(self):
        self.case.with_user(self.agent).action_lock()
        note = self.case.with_user(self.other_agent).message_post(
            body="FYI: customer called", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertTrue(note)

    def test_reply_locks_a_free_case_and_the_holder_may_reply(self):
        self._reply(self.agent)
        self.assertEqual(self.case.lock_user_id, self.agent)
        self._reply(self.agent, "Second answer")
        self.assertEqual(self.case.lock_user_id, self.agent)

    def test_takeover_is_for_managers_only(self):
        self.case.with_user(self.agent).action_lock()
        with self.assertRaises(AccessError):
            self.case.with_user(self.other_agent).action_take_over()
        self.case.with_user(self.manager).action_take_over()
        self.assertEqual(self.case.lock_user_id, self.manager)
        self.assertIn("taken over from Anton Agent", self.case.message_ids[0].body)
        with self.assertRaises(UserError):
            self._reply(self.agent)
        self._reply(self.manager)

    def test_release_by_holder_or_manager(self):
        self.case.with_user(self.agent).action_lock()
        with self.assertRaises(UserError):
            self.case.with_user(self.other_agent).action_release_lock()
        self.case.with_user(self.agent).action_release_lock()
        self.assertFalse(self.case.lock_user_id)
        self.case.with_user(self.other_agent).action_lock()
        self.case.with_user(self.manager).action_release_lock()
        self.assertFalse(self.case.lock_user_id)

    def test_closing_releases_the_lock(self):
        self.case.with_user(self.agent).action_lock()
        self.case.with_user(self.agent).state = "done"
        self.assertFalse(self.case.lock_user_id)

    def test_stale_lock_is_released_by_cron(self):
        cron = self.env.ref("mail_crm_shop.ir_cron_release_stale_locks")
        self.queue.lock_idle_minutes = 20
        other = self._create_case(queue_id=self._create_queue(name="Other").id)
        with freeze_time(T0):
            self.case.with_user(self.agent).action_lock()
            other.with_user(self.manager).action_lock()  # system default: 30 minutes
        with freeze_time(T0 + timedelta(minutes=19)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(self.case.lock_user_id, self.agent)
        with freeze_time(T0 + timedelta(minutes=25)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertFalse(self.case.lock_user_id)
        self.assertEqual(other.lock_user_id, self.manager)
        with freeze_time(T0 + timedelta(minutes=31)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertFalse(other.lock_user_id)

    def test_replying_keeps_the_lock_alive(self):
        with freeze_time(T0):
            self.case.with_user(self.agent).action_lock()
        with freeze_time(T0 + timedelta(minutes=25)):
            self._reply(self.agent)
        with freeze_time(T0 + timedelta(minutes=40)), self.assertRaises(UserError):
            self.case.with_user(self.other_agent).action_lock()

    def test_system_parameter_sets_the_default_idle_time(self):
        self.env["ir.config_parameter"].set_param("mail_crm_shop.lock_idle_minutes", "5")
        with freeze_time(T0):
            self.case.with_user(self.agent).action_lock()
        with freeze_time(T0 + timedelta(minutes=6)):
            self.case.with_user(self.other_agent).action_lock()  # stale: taken without takeover
        self.assertEqual(self.case.lock_user_id, self.other_agent)

    def test_lock_changes_are_logged(self):
        self._flush_tracking()
        self.case.with_user(self.agent).action_lock()
        self._flush_tracking()
        tracked = self.case.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "lock_user_id"
        )
        self.assertEqual(tracked.new_value_integer, self.agent.id)
