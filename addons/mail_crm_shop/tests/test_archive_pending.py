import base64
import csv
import io
import zipfile
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from markupsafe import Markup

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail

from .test_archive_entry import DATA, ArchiveCase

T0 = datetime(2026, 3, 2, 10, 0)
HOOK_LOGGER = "odoo.addons.mail_crm_shop.models.ir_mail_server"


@tagged("post_install", "-at_install")
class TestArchivePending(ArchiveCase, MockEmail):
    def _send(self, subject="Ihre Bestellung 1042"):
        mail = self.env["mail.mail"].create(
            {
                "email_from": "service@shop.test",
                "email_to": "kunde@example.com",
                "subject": subject,
                "body_html": "<p>Ist unterwegs.</p>",
            }
        )
        with self.mock_mail_gateway():
            mail.send()
        return mail

    def _send_while_archive_fails(self, error):
        Entry = self.registry["crm.shop.archive.entry"]
        with (
            patch.object(Entry, "_archive_raw", side_effect=error),
            mute_logger(HOOK_LOGGER),
            freeze_time(T0),
        ):
            return self._send()

    def _run_cron(self, when):
        cron = self.env.ref("mail_crm_shop.ir_cron_archive_pending")
        with freeze_time(when), self.enter_registry_test_mode():
            cron.method_direct_trigger()

    def _entries(self, subject="Ihre Bestellung 1042"):
        return self.env["crm.shop.archive.entry"].search([("subject", "=", subject)])

    def test_failed_archiving_is_kept_and_retried_by_the_cron(self):
        mail = self._send_while_archive_fails(OSError("archive table locked"))
        self.assertEqual(mail.state, "sent", "the mail is out: never reported failed")
        self.assertFalse(self._entries())
        pending = self.env["crm.shop.archive.pending"].search([])
        self.assertRecordValues(
            pending,
            [
                {
                    "state": "error",
                    "attempt_count": 1,
                    "direction": "out",
                    "subject": "Ihre Bestellung 1042",
                    "message_id": mail.message_id,
                }
            ],
        )
        self.assertIn("archive table locked", pending.last_error)
        self.assertGreater(pending.next_attempt_date, T0, "retried later (backoff)")
        raw = self.emails[0]["message"].encode()

        self._run_cron(T0 + timedelta(minutes=1))  # before the retry is due: nothing
        self.assertEqual(pending.state, "error")
        self.assertFalse(self._entries())

        self._run_cron(pending.next_attempt_date + timedelta(seconds=1))
        self.assertEqual(pending.state, "done")
        entry = self._entries()
        self.assertEqual(len(entry), 1)
        self.assertEqual(pending.entry_id, entry)
        self.assertEqual(entry.direction, "out")
        self.assertEqual(entry._raw_bytes()[entry.id], raw)
        self.assertFalse(pending.raw, "the archive holds the bytes now")
        self._run_cron(pending.next_attempt_date or T0 + timedelta(days=1))
        self.assertEqual(len(self._entries()), 1, "archived exactly once")
        self.assertEqual(self.env["crm.shop.archive.access.log"]._verify_archive().result, "ok")

    def test_last_failure_asks_the_archive_group_and_can_be_retried(self):
        self._send_while_archive_fails(OSError("disk full"))
        pending = self.env["crm.shop.archive.pending"].search([])
        Entry = self.registry["crm.shop.archive.entry"]
        with patch.object(Entry, "_archive_raw", side_effect=OSError("disk full")):
            for _attempt in range(4):
                self._run_cron(pending.next_attempt_date + timedelta(seconds=1))
        self.assertEqual((pending.state, pending.attempt_count), ("failed", 5))
        self.assertIn(self.archivist, pending.activity_ids.user_id)
        failed = self.env["crm.shop.archive.pending"].with_user(self.archivist)
        self.assertEqual(failed.search([("state", "=", "failed")]), pending)
        self.assertFalse(self._entries())

        with self.assertRaises(AccessError):
            failed.browse(pending.id).write({"state": "done"})
        forged = base64.b64encode(b"Subject: forged\r\n\r\n")
        for record in (failed.browse(pending.id), pending.sudo()):
            with self.assertRaises(UserError):
                record.write({"raw": forged})
        with self.assertRaises(AccessError):
            pending.with_user(self.manager).action_retry()
        failed.browse(pending.id).action_retry()
        self.assertEqual(pending.state, "pending")
        self.assertFalse(pending.activity_ids)
        self._run_cron(datetime.now() + timedelta(seconds=1))
        self.assertEqual(pending.state, "done")
        self.assertEqual(len(self._entries()), 1)


@tagged("post_install", "-at_install")
class TestArchiveCaseLink(ArchiveCase, MockEmail):
    def test_sent_reply_and_received_mail_carry_their_case_in_the_export(self):
        day = datetime(2026, 3, 2, 10, 0)
        customer = self._create_partner(name="Jürgen Müller", email="jm@example.de")
        case = self._create_case(name="Lieferung 1042", partner_id=customer.id)
        with freeze_time(day):
            inbound = self._create_inbound_mail(
                (DATA / "customer_question.eml").read_bytes(), uid=1
            )
            inbound.case_id = case
            with self.mock_mail_gateway():
                case.message_post(
                    body=Markup("<p>Ihr Paket ist unterwegs.</p>"),
                    subject="Re: Lieferung 1042",
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                    partner_ids=customer.ids,
                )
                self.env["mail.mail"].search([("state", "=", "outgoing")]).send()
        sent = self.env["crm.shop.archive.entry"].search([("direction", "=", "out")])
        self.assertTrue(sent.filtered(lambda e: "jm@example.de" in e.recipients))
        for entry in sent:
            self.assertEqual((entry.res_model, entry.res_id), ("crm.shop.case", case.id))
        received = self.env["crm.shop.archive.entry"].search([("direction", "=", "in")])
        self.assertEqual(len(received), 1)
        for entry in sent | received:
            self.assertEqual(entry._to_service(with_raw=False).case, case.display_name)
            self.assertEqual(entry.case_name, case.display_name)

        wizard = self.env["crm.shop.archive.export"].with_user(self.archivist)
        wizard.create({"date_from": "2026-03-02", "date_to": "2026-03-02"}).action_export()
        log = self.env["crm.shop.archive.access.log"].search([("action", "=", "export")])
        with zipfile.ZipFile(io.BytesIO(log.attachment_id.raw)) as export:
            index = export.read("index.csv").decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(index), delimiter=";"))
        self.assertEqual(len(rows), len(sent) + 1)
        self.assertEqual({row["case"] for row in rows}, {case.display_name})

    def test_mail_without_document_has_no_case(self):
        with self.mock_mail_gateway():
            mail = self.env["mail.mail"].create(
                {"email_to": "kunde@example.com", "subject": "Hallo", "body_html": "<p>x</p>"}
            )
            mail.send()
        entry = self.env["crm.shop.archive.entry"].search([("direction", "=", "out")])
        self.assertFalse(entry.res_model)
        self.assertEqual(entry._to_service(with_raw=False).case, "")
