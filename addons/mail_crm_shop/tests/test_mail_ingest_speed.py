from unittest.mock import patch

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import tagged

from .test_mail_ingest import MailIngestCommon, read_mail

QUESTION_ID = "<question-1042@mail.example.de>"


@tagged("post_install", "-at_install")
class TestMailIngestShortcuts(MailIngestCommon):
    """The round trips processing saves give what the standard calls would give."""

    def _emails(self, case):
        return case.message_ids.filtered(lambda m: m.message_type == "email").sorted("id")

    def test_mail_opening_a_case_gets_no_parent_without_a_lookup(self):
        Case = type(self.env["crm.shop.case"])
        calls = []
        original = Case._message_compute_parent_id

        def counting(case, parent_id):
            calls.append(case.id)
            return original(case, parent_id)

        with patch.object(Case, "_message_compute_parent_id", counting):
            case = self._receive(read_mail("customer_question.eml")).case_id
        self.assertEqual(len(self._emails(case)), 1)
        self.assertFalse(self._emails(case).parent_id)
        self.assertEqual(calls, [], "the case this mail opened holds no message to answer")

    def test_mail_opening_a_case_answers_its_assignment_note_as_the_standard_does(self):
        self.queue.assignment_mode = "round_robin"
        case = self._receive(read_mail("customer_question.eml")).case_id
        self.assertTrue(case.user_id)
        note = case.message_ids.filtered(lambda m: "Assigned to" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertEqual(self._emails(case).parent_id, note)

    def test_message_put_on_the_new_case_by_context_defaults_becomes_the_parent(self):
        Case = type(self.env["crm.shop.case"])
        original = Case._set_sla_deadlines

        def with_note(cases):
            original(cases)
            for case in cases:  # some code posting on the new case while it is created
                case.env["mail.message"].with_context(
                    default_model=case._name, default_res_id=case.id
                ).create({"body": "Set up", "message_type": "notification"})

        with patch.object(Case, "_set_sla_deadlines", with_note):
            case = self._receive(read_mail("customer_question.eml")).case_id
        note = case.message_ids.filtered(lambda m: "Set up" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertEqual(self._emails(case).parent_id, note, "as the standard computation")

    def test_answer_in_the_same_batch_gets_the_question_as_parent(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self.server.deliver(
            read_mail("customer_reply_references.eml", parent_message_id=QUESTION_ID, variant="a")
        )
        self._sync()
        self._process()
        case = self._inbound().case_id
        self.assertEqual(len(case), 1)
        question, answer = self._emails(case)
        self.assertFalse(question.parent_id)
        self.assertEqual(answer.parent_id, question)

    def test_lock_reads_the_mail_its_mailbox_and_queue_in_the_same_query(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        mail = self._inbound()
        self.assertEqual(len(mail), 1)
        mail = mail.sudo()
        mail.env.invalidate_all()
        with self.assertQueryCount(1):
            locked = mail.try_lock_for_update()
            self.assertEqual(locked, mail)
            self.assertEqual((locked.state, locked.mailbox_id), ("pending", self.mailbox))
            self.assertEqual(locked.mailbox_id.name, "Kundenservice")
            self.assertEqual(locked.mailbox_id.queue_id, self.queue)
            self.assertEqual(locked.mailbox_id.queue_id.name, self.queue.name)
            self.assertTrue(locked.mailbox_id.queue_id.active)
        self.assertEqual(mail.try_lock_for_update(limit=1), mail, "the standard way still works")

    def test_lock_keeps_pending_changes_in_cache(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        mail = self._inbound().sudo()
        self.queue.sudo().reopen_days = 3
        self.mailbox.sudo().name = "Renamed"
        self.assertEqual(mail.try_lock_for_update(), mail)
        self.assertEqual(mail.mailbox_id.name, "Renamed")
        self.assertEqual(mail.mailbox_id.queue_id.reopen_days, 3)


@tagged("post_install", "-at_install")
class TestMailLockAcrossWorkers(MailIngestCommon):
    """Another worker holding a stored mail: the locking read skips it, it is not read."""

    def setUp(self):
        super().setUp()
        self.db = sql_db.db_connect(self.env.cr.dbname)
        with self.db.cursor() as setup:
            env = api.Environment(setup, SUPERUSER_ID, {})
            queue = env["crm.shop.queue"].create({"name": "Lock test"})
            mailbox = env["crm.shop.mailbox"].create(
                {
                    "name": "Lock test",
                    "email": "lock-test@shop.test",
                    "host": "imap.shop.test",
                    "login": "lock-test",
                    "password": "secret",
                    "queue_id": queue.id,
                }
            )
            mail = env["crm.shop.inbound.mail"].create(
                {
                    "mailbox_id": mailbox.id,
                    "folder": "INBOX",
                    "uidvalidity": "1",
                    "uid": 1,
                    "dedupe_key": "<lock-test@shop.test>",
                    "subject": "Lock test",
                }
            )
            self.ids = (queue.id, mailbox.id, mail.id)
        self.addCleanup(self._drop)

    def _drop(self):
        queue_id, mailbox_id, mail_id = self.ids
        with self.db.cursor() as cleanup:
            env = api.Environment(cleanup, SUPERUSER_ID, {})
            env["crm.shop.inbound.mail"].browse(mail_id).unlink()
            env["crm.shop.mailbox"].browse(mailbox_id).unlink()
            env["crm.shop.queue"].browse(queue_id).unlink()

    def test_mail_held_by_another_worker_is_skipped(self):
        mail_id = self.ids[2]
        worker_a, worker_b = self.db.cursor(), self.db.cursor()
        try:
            worker_b.execute(
                "SELECT id FROM crm_shop_inbound_mail WHERE id = %s FOR UPDATE", [mail_id]
            )
            env_a = api.Environment(worker_a, SUPERUSER_ID, {})
            mail = env_a["crm.shop.inbound.mail"].browse(mail_id)
            self.assertFalse(mail.try_lock_for_update(), "B holds it: skipped")
            worker_b.rollback()  # B is done with it
            self.assertEqual(mail.try_lock_for_update(), mail)
            worker_b.execute(
                "SELECT id FROM crm_shop_inbound_mail WHERE id = %s FOR UPDATE SKIP LOCKED",
                [mail_id],
            )
            self.assertFalse(worker_b.fetchall(), "A holds it now")
        finally:
            worker_a.rollback()
            worker_a.close()
            worker_b.rollback()
            worker_b.close()
