from odoo.tests import tagged, users

from .common import MailCrmShopCase


@tagged("post_install", "-at_install")
class TestCaseAssignment(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first, cls.second = (cls.agent | cls.other_agent).sorted("id")

    def test_manual_queue_leaves_cases_unassigned(self):
        self.assertEqual(self.queue.assignment_mode, "manual")
        self.assertFalse(self._create_case().user_id)

    def test_round_robin_takes_turns(self):
        self.queue.assignment_mode = "round_robin"
        assignees = [self._create_case().user_id for _index in range(3)]
        self.assertEqual(assignees, [self.first, self.second, self.first])
        self.assertEqual(self.queue.last_assigned_user_id, self.first)

    def test_round_robin_batch_create_spreads(self):
        self.queue.write({"assignment_mode": "round_robin", "last_assigned_user_id": self.first.id})
        cases = self.env["crm.shop.case"].create(
            [{"name": f"Case {n}", "queue_id": self.queue.id} for n in range(3)]
        )
        self.assertEqual(cases.mapped("user_id").ids, (self.second | self.first).ids)
        self.assertEqual([c.user_id for c in cases], [self.second, self.first, self.second])

    def test_least_open_gives_the_case_to_the_least_busy_member(self):
        self._create_case(user_id=self.first.id)
        self._create_case(user_id=self.first.id)
        self._create_case(user_id=self.second.id)
        self._create_case(user_id=self.second.id, state="done")  # closed cases do not count
        self.queue.assignment_mode = "least_open"
        self.assertEqual(self._create_case().user_id, self.second)
        self.assertEqual(self._create_case().user_id, self.first)  # tie: next in turn

    def test_explicit_assignee_is_kept(self):
        self.queue.assignment_mode = "round_robin"
        self.assertEqual(self._create_case(user_id=self.second.id).user_id, self.second)
        self.assertFalse(self.queue.last_assigned_user_id)

    def test_archived_member_gets_no_case(self):
        self.queue.assignment_mode = "round_robin"
        self.first.active = False
        self.assertEqual({self._create_case().user_id for _n in range(2)}, {self.second})

    def test_assignment_is_logged(self):
        self.queue.assignment_mode = "round_robin"
        case = self._create_case()
        self.assertIn(f"Assigned to {self.first.name} (Round robin)", case.message_ids[0].body)
        self._flush_tracking()
        case.user_id = self.second
        self._flush_tracking()
        tracked = case.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "user_id"
        )
        self.assertEqual(tracked.new_value_integer, self.second.id)

    @users("inbox_agent")
    def test_assign_to_me_also_locks(self):
        case = self._create_case().with_user(self.env.user)
        case.action_assign_to_me()
        self.assertEqual(case.user_id, self.agent)
        self.assertEqual(case.lock_user_id, self.agent)
