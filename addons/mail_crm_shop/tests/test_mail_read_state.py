from odoo.tests import tagged

from .test_mail_ingest import MAILBOX_LOGGER, MailIngestCommon, read_mail


@tagged("post_install", "-at_install")
class TestMailReadState(MailIngestCommon):
    """The \\Seen flag on the server follows the case (mailbox option ``sync_read_state``)."""

    def _seen(self, folder="INBOX"):
        return self.server.folders[folder]["seen"]

    def _receive_case(self, name="customer_question.eml", **values):
        """Deliver a mail, sync and process it; return its inbound record."""
        uid = self.server.deliver(read_mail(name, **values))
        self._sync()
        self._process()
        return self._inbound().filtered(lambda mail: mail.uid == uid)

    def test_option_off_leaves_the_flags_to_mark_seen_only(self):
        self.mailbox.mark_seen = False
        inbound = self._receive_case()
        inbound.case_id.state = "done"
        self._sync()
        self.assertFalse(self._seen())
        self.assertTrue(inbound.server_seen_synced, "nothing was asked of the server")

    def test_read_case_flags_its_mails_seen_at_the_next_sync(self):
        self.mailbox.sync_read_state = True
        inbound = self._receive_case()
        self.assertEqual(inbound.state, "done")
        self.assertFalse(self._seen(), "a new case's mail stays unread on the server")
        self.assertEqual((inbound.server_seen_wanted, inbound.server_seen_synced), (False, False))
        self._sync()
        self.assertTrue(inbound.server_seen_synced)
        self.assertFalse(self._seen())
        case = inbound.case_id
        case.with_user(self.agent).action_assign_to_me()
        self.assertEqual(case.state, "in_progress")
        self.assertEqual((inbound.server_seen_wanted, inbound.server_seen_synced), (True, False))
        self.assertFalse(self._seen(), "no IMAP in the user's transaction")
        self._sync()
        self.assertEqual(self._seen(), {inbound.uid})
        self.assertTrue(inbound.server_seen_synced)

    def test_done_case_is_seen_and_reopened_case_unseen(self):
        self.mailbox.sync_read_state = True
        inbound = self._receive_case()
        case = inbound.case_id
        case.state = "done"
        self._sync()
        self.assertEqual(self._seen(), {inbound.uid})
        case.state = "new"
        self.assertEqual((inbound.server_seen_wanted, inbound.server_seen_synced), (False, False))
        self._sync()
        self.assertFalse(self._seen())
        self.assertTrue(inbound.server_seen_synced)

    def test_mail_added_to_a_read_case_is_flagged_seen(self):
        self.mailbox.sync_read_state = True
        first = self._receive_case()
        case = first.case_id
        case.state = "wait_third"
        reply = self._receive_case("customer_reply_token.eml", case_number=case.number, variant="a")
        self.assertEqual(reply.case_id, case)
        self.assertTrue(reply.server_seen_wanted)
        self._sync()
        self.assertEqual(self._seen(), {first.uid, reply.uid})

    def test_imap_failure_is_recorded_and_retried(self):
        self.mailbox.sync_read_state = True
        inbound = self._receive_case()
        inbound.case_id.state = "done"
        self.server.refuse_flags = True
        with self.assertLogs(MAILBOX_LOGGER, level="WARNING") as logs:
            self._sync()
        self.assertIn("sync failed", logs.output[0])
        self.assertEqual(self.mailbox.state, "error")
        self.assertIn("connection lost", self.mailbox.last_error)
        self.assertFalse(inbound.server_seen_synced, "still pending")
        self.assertFalse(self._seen())
        self.server.refuse_flags = False
        self._sync()
        self.assertEqual(self.mailbox.state, "ok")
        self.assertFalse(self.mailbox.last_error)
        self.assertTrue(inbound.server_seen_synced)
        self.assertEqual(self._seen(), {inbound.uid})

    def test_mail_under_an_old_uidvalidity_is_never_flagged(self):
        self.mailbox.sync_read_state = True
        old = self._receive_case()
        self.server.rebuild(uidvalidity=2000, first_uid=1)  # the old UID 1 is meaningless now
        new = self._receive_case("no_message_id.eml")
        self.assertEqual((old.uidvalidity, new.uidvalidity), ("1000", "2000"))
        (old.case_id | new.case_id).write({"state": "done"})
        self._sync()
        self.assertEqual(self._seen(), {new.uid}, "UID 1 under 2000 is not our mail")
        self.assertFalse(old.server_seen_synced, "kept as it is, never applied")
        self.assertTrue(new.server_seen_synced)

    def test_flags_are_applied_in_batches(self):
        self.mailbox.sync_read_state = True
        first = self._receive_case()
        second = self._receive_case("no_message_id.eml")
        self._sync()
        cron = self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")
        cron.code = "model._cron_sync(batch_size=1)"
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        (first.case_id | second.case_id).write({"state": "done"})
        self._sync()
        self.assertEqual(self._seen(), {first.uid})
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers,
            "more to flag: another run soon",
        )
        self._sync()
        self.assertEqual(self._seen(), {first.uid, second.uid})
