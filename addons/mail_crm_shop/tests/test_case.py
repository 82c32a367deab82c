from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import MailCrmShopCase


@tagged("post_install", "-at_install")
class TestCase(MailCrmShopCase):
    def test_case_number_is_sequential_and_in_display_name(self):
        first, second = self._create_case(), self._create_case(name="Refund")
        self.assertRegex(first.number, r"^C-\d{5}$")
        self.assertNotEqual(first.number, second.number)
        self.assertEqual(second.display_name, f"[#{second.number}] Refund")

    @users("inbox_agent")
    def test_assign_to_me_takes_the_case(self):
        case = self._create_case().with_user(self.env.user)
        case.action_assign_to_me()
        self.assertEqual(case.user_id, self.agent)
        self.assertEqual(case.state, "in_progress")

    def test_private_case_hidden_from_other_queue_member(self):
        case = self._create_case(user_id=self.agent.id, is_private=True)
        case.with_user(self.agent).check_access("read")
        case.with_user(self.manager).check_access("read")
        with self.assertRaises(AccessError):
            case.with_user(self.other_agent).check_access("read")

    def test_case_of_foreign_queue_is_not_readable(self):
        foreign = self._create_queue(name="Accounting", member_ids=[self.manager.id])
        case = self._create_case(queue_id=foreign.id)
        with self.assertRaises(AccessError):
            case.with_user(self.agent).check_access("read")

    def test_open_case_count_per_queue(self):
        self._create_case()
        self._create_case(state="done")
        self.assertEqual(self.queue.open_case_count, 1)
