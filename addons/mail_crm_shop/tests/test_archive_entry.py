import base64
import hashlib
from pathlib import Path

import psycopg2

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail

from ..services import archive
from .common import MailCrmShopCase

DATA = Path(__file__).parent / "data"


class ArchiveCase(MailCrmShopCase):
    """Builders for the GoBD archive tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.archivist = new_test_user(
            cls.env, "archivist", groups="mail_crm_shop.group_archive", name="Arne Archiv"
        )
        cls.mailbox = cls.env["crm.shop.mailbox"].create(
            {
                "name": "Kundenservice",
                "email": "service@shop.test",
                "host": "imap.shop.test",
                "login": "service",
                "password": "secret",
                "queue_id": cls.queue.id,
            }
        )

    @classmethod
    def _create_inbound_mail(cls, raw=None, uid=1, **overrides):
        raw = raw if raw is not None else (DATA / "customer_question.eml").read_bytes()
        vals = {
            "mailbox_id": cls.mailbox.id,
            "folder": "INBOX",
            "uidvalidity": "1",
            "uid": uid,
            "dedupe_key": f"key-{uid}",
            "raw": base64.b64encode(raw),
            **overrides,
        }
        return cls.env["crm.shop.inbound.mail"].create(vals)

    def _entry_of(self, record):
        return self.env["crm.shop.archive.entry"].search(
            [("res_model", "=", record._name), ("res_id", "=", record.id)]
        )

    def _tamper(self, entry, raw):
        """Change the stored bytes behind the trigger's back, as an attacker with SQL would."""
        cr = self.env.cr
        cr.execute(
            "ALTER TABLE crm_shop_archive_entry DISABLE TRIGGER crm_shop_archive_entry_guard"
        )
        cr.execute(
            "UPDATE crm_shop_archive_entry SET raw_content = %s WHERE id = %s", [raw, entry.id]
        )
        cr.execute("ALTER TABLE crm_shop_archive_entry ENABLE TRIGGER crm_shop_archive_entry_guard")


@tagged("post_install", "-at_install")
class TestArchiveEntry(ArchiveCase, MockEmail):
    def test_inbound_mail_archived_byte_for_byte_in_chain(self):
        raw = (DATA / "customer_question.eml").read_bytes()
        first = self._create_inbound_mail(raw, uid=1)
        second = self._create_inbound_mail((DATA / "out_of_office.eml").read_bytes(), uid=2)
        entry, next_entry = self._entry_of(first), self._entry_of(second)
        self.assertEqual(entry._raw_bytes()[entry.id], raw)
        self.assertEqual(entry.sha256, hashlib.sha256(raw).hexdigest())
        self.assertEqual(entry.direction, "in")
        self.assertEqual(entry.message_id, "<question-1042@mail.example.de>")
        self.assertIn("Jürgen Müller", entry.sender)
        self.assertEqual(next_entry.sequence, entry.sequence + 1)
        self.assertEqual(next_entry.prev_chain_hash, entry.chain_hash)
        self.assertEqual(
            entry.retention_end_date.year, entry.archived_date.year + 10, "default: 10 years"
        )

    def test_retention_years_configurable_per_category(self):
        self.env["ir.config_parameter"].set_param(
            "mail_crm_shop.archive_retention_years_default", "12"
        )
        entry = self._entry_of(self._create_inbound_mail())
        self.assertEqual(entry.retention_end_date.year, entry.archived_date.year + 12)

    def test_outgoing_mail_archived_as_sent(self):
        with self.mock_mail_gateway():
            mail = self.env["mail.mail"].create(
                {
                    "email_from": "service@shop.test",
                    "email_to": "kunde@example.com",
                    "subject": "Ihre Bestellung 1042",
                    "body_html": "<p>Ist unterwegs.</p>",
                }
            )
            mail.send()
        self.assertEqual(len(self.emails), 1)
        entry = self.env["crm.shop.archive.entry"].search(
            [("direction", "=", "out")], order="sequence desc", limit=1
        )
        self.assertEqual(entry.subject, "Ihre Bestellung 1042")
        self.assertIn("kunde@example.com", entry.recipients)
        self.assertEqual(entry._raw_bytes()[entry.id].decode(), self.emails[0]["message"])

    def test_write_and_unlink_refused_for_everybody(self):
        entry = self._entry_of(self._create_inbound_mail())
        admin = self.env.ref("base.user_admin")
        for record in (
            entry,  # superuser
            entry.with_user(admin),
            entry.with_user(self.archivist),
            entry.with_user(self.archivist).sudo(),
            entry.with_user(self.manager),
        ):
            with self.assertRaises(UserError):
                record.write({"subject": "changed"})
            with self.assertRaises(UserError):
                record.unlink()
        self.assertTrue(entry.exists())
        self.assertEqual(entry._raw_bytes()[entry.id][:11], b"Return-Path")

    @mute_logger("odoo.sql_db")
    def test_sql_update_and_delete_refused_by_trigger(self):
        entry = self._entry_of(self._create_inbound_mail())
        statements = [
            ("UPDATE crm_shop_archive_entry SET subject = 'x' WHERE id = %s", [entry.id]),
            ("UPDATE crm_shop_archive_entry SET raw_content = 'x' WHERE id = %s", [entry.id]),
            ("UPDATE crm_shop_archive_entry SET raw_content = NULL WHERE id = %s", [entry.id]),
            ("DELETE FROM crm_shop_archive_entry WHERE id = %s", [entry.id]),
            ("TRUNCATE crm_shop_archive_entry CASCADE", []),
        ]
        for query, params in statements:
            with self.assertRaises(psycopg2.errors.RaiseException), self.env.cr.savepoint():
                self.env.cr.execute(query, params)
        self.env.invalidate_all()
        self.assertEqual(entry.subject, "Lieferung für Bestellung 1042 verspätet")

    def test_verify_finds_one_changed_byte_then_passes_when_restored(self):
        self._create_inbound_mail(uid=1)
        entry = self._entry_of(
            self._create_inbound_mail((DATA / "out_of_office.eml").read_bytes(), uid=2)
        )
        self._create_inbound_mail((DATA / "no_message_id.eml").read_bytes(), uid=3)
        raw = entry._raw_bytes()[entry.id]
        self._tamper(entry, raw[:100] + bytes([raw[100] ^ 1]) + raw[101:])

        Entry = self.env["crm.shop.archive.entry"].with_user(self.archivist)
        action = Entry.action_verify()
        log = self.env["crm.shop.archive.access.log"].browse(action["res_id"])
        self.assertEqual(log.result, "broken")
        self.assertEqual(log.broken_sequence, entry.sequence)
        self.assertIn("content changed", log.detail)
        self.assertEqual(log.user_id, self.archivist)
        self.assertIn(self.archivist, log.activity_ids.user_id)
        self.assertIn(str(entry.sequence), log.message_ids[0].body)

        self._tamper(entry, raw)
        self.env["crm.shop.archive.entry"]._cron_verify()
        last = self.env["crm.shop.archive.access.log"].search([], limit=1)
        self.assertEqual((last.action, last.result), ("verify", "ok"))
        self.assertEqual(last.entry_count, self.env["crm.shop.archive.entry"].search_count([]))

    def test_changed_digest_found_by_verify(self):
        entry = self._entry_of(self._create_inbound_mail())
        cr = self.env.cr
        cr.execute(
            "ALTER TABLE crm_shop_archive_entry DISABLE TRIGGER crm_shop_archive_entry_guard"
        )
        cr.execute(
            "UPDATE crm_shop_archive_entry SET sha256 = %s WHERE id = %s", ["0" * 64, entry.id]
        )
        cr.execute("ALTER TABLE crm_shop_archive_entry ENABLE TRIGGER crm_shop_archive_entry_guard")
        self.env.invalidate_all()
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        self.assertEqual((log.result, log.broken_sequence), ("broken", entry.sequence))

    def test_download_original_logged_and_restricted(self):
        entry = self._entry_of(self._create_inbound_mail())
        with self.assertRaises(AccessError):
            entry.with_user(self.manager).action_download_raw()
        action = entry.with_user(self.archivist).action_download_raw()
        log = self.env["crm.shop.archive.access.log"].search([("action", "=", "read_raw")])
        self.assertEqual(log.user_id, self.archivist)
        self.assertEqual(log.entry_ids, entry)
        self.assertEqual(log.attachment_id.raw, entry._raw_bytes()[entry.id])
        self.assertIn(f"/web/content/{log.attachment_id.id}", action["url"])
        with self.assertRaises(UserError):
            log.with_user(self.archivist).sudo().unlink()

    def test_archive_hidden_from_team_inbox_users(self):
        self._create_inbound_mail()
        with self.assertRaises(AccessError):
            self.env["crm.shop.archive.entry"].with_user(self.manager).search([])
        self.assertTrue(self.env["crm.shop.archive.entry"].with_user(self.archivist).search([]))

    def test_chain_matches_service_algorithm(self):
        self._create_inbound_mail(uid=1)
        self._create_inbound_mail((DATA / "out_of_office.eml").read_bytes(), uid=2)
        entries = self.env["crm.shop.archive.entry"].search([], order="sequence")
        self.assertEqual(entries.mapped("sequence"), list(range(1, len(entries) + 1)))
        self.assertTrue(archive.verify_chain(e._to_service() for e in entries).ok)


@tagged("post_install", "-at_install")
class TestArchiveEntryRpc(HttpCase):
    def test_write_and_unlink_refused_over_xmlrpc_for_admin(self):
        raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: rpc\r\n\r\nHallo\r\n"
        entry = self.env["crm.shop.archive.entry"]._archive_raw(raw, "in")
        admin = self.env.ref("base.user_admin")
        for method, args in (("write", [[entry.id], {"subject": "x"}]), ("unlink", [[entry.id]])):
            with (
                self.assertRaises(Exception) as caught,
                mute_logger("odoo.http", "odoo.addons.rpc.controllers.xmlrpc"),
            ):
                self.xmlrpc_object.execute(
                    self.env.cr.dbname, admin.id, "admin", entry._name, method, *args
                )
            self.assertIn("GoBD" if method == "write" else "delete", str(caught.exception))
        self.env.invalidate_all()
        self.assertEqual(entry.subject, "rpc")
        self.assertEqual(entry._raw_bytes()[entry.id], raw)
