from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import SerializationFailure

from odoo.tests import tagged

from .test_mail_ingest import MailIngestCommon, fields_now_plus, read_mail

QUESTION_ID = "<question-1042@mail.example.de>"


@tagged("post_install", "-at_install")
class TestMailIngestBatch(MailIngestCommon):
    """Processing a batch: lookups once per batch, still one unit of work per mail."""

    def _emails(self, case):
        return case.message_ids.filtered(lambda m: m.message_type == "email")

    def _deliver_thread(self):
        """A new question and two answers to it (In-Reply-To, References only)."""
        self.server.deliver(read_mail("customer_question.eml"))
        self.server.deliver(
            read_mail("customer_reply_references.eml", parent_message_id=QUESTION_ID, variant="a")
        )
        self.server.deliver(
            read_mail(
                "customer_reply_references.eml", parent_message_id=QUESTION_ID, variant="b"
            ).replace(f"In-Reply-To: {QUESTION_ID}\n".encode(), b"")
        )

    def test_follow_ups_find_the_case_opened_earlier_in_the_same_batch(self):
        self._deliver_thread()
        self._sync()
        Inbound = type(self.env["crm.shop.inbound.mail"])
        lookups = []
        original = Inbound._lookup_messages

        def counting(model, batch, message_ids):
            lookups.append(set(message_ids))
            return original(model, batch, message_ids)

        with patch.object(Inbound, "_lookup_messages", counting):
            self._process()
        inbound = self._inbound()
        self.assertEqual(set(inbound.mapped("state")), {"done"}, inbound.mapped("last_error"))
        case = inbound.case_id
        self.assertEqual(len(case), 1, "both answers joined the case the question opened")
        self.assertEqual(len(self._emails(case)), 3)
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(
            len(lookups), 1, "one lookup for the whole batch; the new case was remembered"
        )
        self.assertIn(QUESTION_ID, lookups[0])

    def test_failing_mail_in_the_middle_is_recorded_and_the_others_are_done(self):
        for variant in "abc":
            self.server.deliver(
                read_mail("customer_reply_token.eml", case_number="X-1", variant=variant)
            )
        self._sync()
        first, middle, last = self._inbound().sorted("id")
        Inbound = type(self.env["crm.shop.inbound.mail"])
        original = Inbound._post_to_case

        def failing(mail, msg_dict, case, batch):
            result = original(mail, msg_dict, case, batch)  # the case exists: rolled back
            if mail == middle:
                raise RuntimeError("database said no")
            return result

        start = fields_now_plus(minutes=1).replace(microsecond=0)
        with freeze_time(start), patch.object(Inbound, "_post_to_case", failing):
            self._process()
        self.assertEqual((first.state, last.state), ("done", "done"))
        self.assertEqual(
            (middle.state, middle.attempt_count, middle.last_error),
            ("error", 1, "RuntimeError: database said no"),
        )
        self.assertEqual(middle.next_attempt_date, start + timedelta(minutes=5))
        self.assertFalse(middle.case_id)
        self.assertEqual(len(self._cases()), 2, "the failed mail left no case behind")
        with freeze_time(start + timedelta(minutes=6)):
            self._process()
        self.assertEqual(middle.state, "done")
        self.assertFalse(middle.last_error)
        self.assertEqual(len(self._cases()), 3)

    def test_mail_locked_by_another_worker_is_skipped_and_processed_later(self):
        self._deliver_thread()
        self._sync()
        first, held, last = self._inbound().sorted("id")
        Inbound = type(self.env["crm.shop.inbound.mail"])
        original = Inbound.try_lock_for_update

        def skip_held(records, *args, **kwargs):  # what SKIP LOCKED gives for a held row
            return original(records - held, *args, **kwargs)

        with patch.object(Inbound, "try_lock_for_update", skip_held):
            self._process()
        self.assertEqual((first.state, held.state, last.state), ("done", "pending", "done"))
        self.assertEqual(held.attempt_count, 0, "skipped, not failed")
        self._process()
        self.assertEqual(held.state, "done")
        self.assertEqual(held.case_id, first.case_id)

    def test_mail_another_worker_changed_meanwhile_is_skipped_not_an_error(self):
        self._deliver_thread()
        self._sync()
        first, changed, last = self._inbound().sorted("id")
        Inbound = type(self.env["crm.shop.inbound.mail"])
        original = Inbound.try_lock_for_update

        def serialization_failure(records, *args, **kwargs):
            if records == changed:  # committed by another worker while we locked it
                raise SerializationFailure("could not serialize access due to concurrent update")
            return original(records, *args, **kwargs)

        with patch.object(Inbound, "try_lock_for_update", serialization_failure):
            self._process()
        self.assertEqual((first.state, changed.state, last.state), ("done", "pending", "done"))
        self.assertEqual(changed.attempt_count, 0, "skipped, not failed")
        self._process()
        self.assertEqual(changed.state, "done")
        self.assertEqual(changed.case_id, first.case_id)

    def test_new_mails_are_searchable_once_indexed_off_the_hot_path(self):
        case = self._receive(read_mail("customer_question.eml")).case_id
        Case = self.env["crm.shop.case"]
        Pending = self.env["crm.shop.search.pending"]
        self.assertTrue(Pending.search_count([("res_model", "=", "mail.message")]))
        self.assertFalse(Case.search([("fulltext", "ilike", "angekommen")]), "not indexed yet")
        cron = self.env.ref("mail_crm_shop.ir_cron_search_index")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
            "processing asks the index cron to run",
        )
        self._run_cron("mail_crm_shop.ir_cron_search_index")
        self.assertFalse(Pending.search_count([]))
        self.assertEqual(Case.search([("fulltext", "ilike", "angekommen")]), case)
        self.assertEqual(Case.search([("fulltext", "ilike", "verspätet")]), case, "the title")
        documents = self.env["crm.shop.search.document"].search([("case_id", "=", case.id)])
        self.assertEqual(set(documents.mapped("kind")), {"case", "mail", "attachment"})

    def test_index_cron_skips_sources_deleted_meanwhile(self):
        case = self._receive(read_mail("customer_question.eml")).case_id
        self._emails(case).attachment_ids.unlink()
        self._run_cron("mail_crm_shop.ir_cron_search_index")
        self.assertFalse(self.env["crm.shop.search.pending"].search_count([]))
        documents = self.env["crm.shop.search.document"].search([("case_id", "=", case.id)])
        self.assertEqual(set(documents.mapped("kind")), {"case", "mail"})

    def test_stored_chunk_skips_known_and_repeated_mails(self):
        raw = read_mail("customer_question.eml")
        self.server.deliver(raw)
        self._sync()
        self.server.deliver(raw)  # again on the server
        self.server.deliver(raw)  # and twice in the same fetch
        self.server.deliver(read_mail("no_message_id.eml"))
        Mailbox = type(self.env["crm.shop.mailbox"])
        original = Mailbox._log_already_stored
        skipped = []

        def logging_skip(mailbox, folder, fetched, key):
            skipped.append(fetched["uid"] if isinstance(fetched, dict) else fetched.uid)
            return original(mailbox, folder, fetched, key)

        with patch.object(Mailbox, "_log_already_stored", logging_skip):
            self._sync()
        self.assertEqual(self.mailbox.state, "ok", self.mailbox.last_error)
        self.assertEqual(len(self._inbound()), 2)
        self.assertEqual(sorted(skipped), [2, 3], "each skipped mail is reported")
        self.assertEqual(self.server.folder("INBOX")["seen"], {1, 2, 3, 4})

    def test_case_created_by_another_worker_after_the_lookups_is_found(self):
        self.server.deliver(
            read_mail("customer_reply_token.eml", case_number="C-77777", variant="z")
        )
        self._sync()
        Inbound = type(self.env["crm.shop.inbound.mail"])
        original = Inbound._prefetch_routing
        late = []

        def prefetch_then_another_worker(records):
            batch = original(records)
            late.append(self._create_case(number="C-77777", mailbox_id=self.mailbox.id))
            return batch

        with patch.object(Inbound, "_prefetch_routing", prefetch_then_another_worker):
            self._process()
        self.assertEqual(self._inbound().case_id, late[0], "asked again, not guessed")
