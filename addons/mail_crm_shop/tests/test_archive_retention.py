import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from freezegun import freeze_time
from markupsafe import Markup

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..wizards.crm_shop_archive_export import CHECK_SCRIPT
from .test_archive_entry import DATA, ArchiveCase

ERIKA_MAIL = (
    b"From: Erika Muster <erika@example.com>\r\nTo: service@shop.test\r\n"
    b"Subject: Rechnung 2026-17\r\nMessage-ID: <erika-1@example.com>\r\n\r\nHallo\r\n"
)


@tagged("post_install", "-at_install")
class TestArchiveDeletion(ArchiveCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second_archivist = new_test_user(
            cls.env, "archivist2", groups="mail_crm_shop.group_archive", name="Berta Beleg"
        )

    def _create_deletion(self, entries, user=None):
        Deletion = self.env["crm.shop.archive.deletion"].with_user(user or self.archivist)
        return Deletion.create({"name": "Old mail", "entry_ids": [(6, 0, entries.ids)]})

    def test_deletion_before_retention_end_refused(self):
        entry = self._entry_of(self._create_inbound_mail())
        request = self._create_deletion(entry)
        with self.assertRaisesRegex(UserError, "retention period runs until"):
            request.action_request()
        self.assertEqual(request.state, "draft")
        self.assertFalse(entry.content_removed)

    def test_deletion_after_retention_needs_a_second_approver(self):
        with freeze_time("2014-03-01 10:00:00"):
            old = self._entry_of(self._create_inbound_mail(uid=1))
        kept = self._entry_of(
            self._create_inbound_mail((DATA / "out_of_office.eml").read_bytes(), uid=2)
        )
        old.with_user(self.archivist).action_download_raw()
        copy = self.env["crm.shop.archive.access.log"].search([("action", "=", "read_raw")])
        self.assertTrue(copy.attachment_id)
        request = self._create_deletion(old)
        request.action_request()
        self.assertEqual((request.state, request.requested_by_id), ("requested", self.archivist))
        with self.assertRaisesRegex(UserError, "second archive member"):
            request.action_approve()
        with self.assertRaises(UserError):
            request.write({"requested_by_id": self.second_archivist.id})
        with self.assertRaises(AccessError):
            request.with_user(self.manager).action_approve()
        self.assertEqual(request.state, "requested")
        self.assertFalse(old.content_removed)

        request.with_user(self.second_archivist).action_approve()
        self.assertEqual(request.state, "done")
        self.assertEqual(request.approved_by_id, self.second_archivist)
        self.assertIn(old.sha256, request.deleted_hashes)
        self.assertTrue(old.content_removed)
        self.assertIsNone(old._raw_bytes()[old.id])
        self.assertEqual(kept._raw_bytes()[kept.id], (DATA / "out_of_office.eml").read_bytes())
        self.assertTrue(old.exists(), "the tombstone keeps the chain")
        self.assertFalse(copy.attachment_id.exists(), "downloaded copies go with the original")
        with self.assertRaises(UserError):
            old.with_user(self.archivist).action_download_raw()
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        self.assertEqual((log.result, log.entry_count), ("ok", 2))
        deleted = self.env["crm.shop.archive.access.log"].search([("action", "=", "delete")])
        self.assertEqual((deleted.user_id, deleted.entry_ids), (self.second_archivist, old))

    def test_legal_hold_blocks_deletion_until_ended(self):
        with freeze_time("2014-03-01 10:00:00"):
            old = self._entry_of(self._create_inbound_mail(uid=1))
        Hold = self.env["crm.shop.archive.hold"].with_user(self.archivist)
        hold = Hold.create(
            {"name": "Betriebsprüfung", "hold_until": "2099-12-31", "entry_ids": [(6, 0, old.ids)]}
        )
        self.assertEqual(str(old.legal_hold_until), "2099-12-31")
        request = self._create_deletion(old)
        with self.assertRaisesRegex(UserError, "legal hold until 2099-12-31"):
            request.action_request()
        with self.assertRaises(UserError):
            hold.write({"hold_until": "2020-01-01"})
        with self.assertRaises(UserError):
            hold.unlink()
        self.assertEqual(request.state, "draft")
        hold.action_archive()
        old.invalidate_recordset(["legal_hold_until"])
        request.action_request()
        self.assertEqual(request.state, "requested")

    def test_period_with_a_deleted_entry_exports_and_verifies(self):
        with freeze_time("2014-03-01 09:00:00"):
            first = self._entry_of(self._create_inbound_mail(uid=1))
        with freeze_time("2014-03-01 10:00:00"):
            old = self._entry_of(
                self._create_inbound_mail((DATA / "out_of_office.eml").read_bytes(), uid=2)
            )
        with freeze_time("2014-03-01 11:00:00"):
            last = self._entry_of(
                self._create_inbound_mail((DATA / "no_message_id.eml").read_bytes(), uid=3)
            )
        request = self._create_deletion(old)
        request.action_request()
        with freeze_time("2026-02-10 12:00:00"):
            request.with_user(self.second_archivist).action_approve()
        self.assertTrue(old.content_removed)

        wizard = self.env["crm.shop.archive.export"].with_user(self.archivist)
        wizard.create({"date_from": "2014-03-01", "date_to": "2014-03-01"}).action_export()
        log = self.env["crm.shop.archive.access.log"].search([("action", "=", "export")])
        self.assertEqual(log.entry_ids, first | old | last)
        data = log.attachment_id.raw
        with zipfile.ZipFile(io.BytesIO(data)) as export:
            names = export.namelist()
            manifest = json.loads(export.read("manifest.json"))
            index = export.read("index.csv").decode("utf-8-sig")
        self.assertEqual(len([n for n in names if n.startswith("eml/")]), 2)
        self.assertNotIn(f"eml/{old.sequence:010d}_{old.sha256}.eml", names)
        item = next(e for e in manifest["entries"] if e["sequence"] == old.sequence)
        marker = "deleted on 2026-02-10 approved by Berta Beleg"
        self.assertEqual((item["sha256"], item["file"]), (old.sha256, None))
        self.assertEqual(item["deleted"]["note"], marker)
        self.assertEqual(item["deleted"]["requested_by"], "Arne Archiv")
        self.assertIn(f"{old.sha256};{old.chain_hash}", index)
        self.assertIn(marker, index)

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.zip"
            path.write_bytes(data)
            result = subprocess.run(
                [sys.executable, CHECK_SCRIPT, str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(result.stdout.startswith("OK 3 entries verified"), result.stdout)
        self.assertIn("1 deleted after retention", result.stdout)

    def test_content_missing_without_approved_deletion_breaks_the_chain(self):
        entry = self._entry_of(self._create_inbound_mail())
        self._tamper(entry, None)
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        self.assertEqual((log.result, log.broken_sequence), ("broken", entry.sequence))
        self.assertIn("without an approved deletion", log.detail)

    def test_tombstone_setting_does_not_outlive_the_deletion(self):
        with freeze_time("2014-03-01 10:00:00"):
            old = self._entry_of(self._create_inbound_mail(uid=1))
        request = self._create_deletion(old)
        request.action_request()
        request.with_user(self.second_archivist).action_approve()
        self.env.cr.execute("SELECT current_setting('crm_shop_archive.tombstone', true)")
        self.assertFalse(self.env.cr.fetchone()[0])


@tagged("post_install", "-at_install")
class TestGdprRequest(ArchiveCase):
    def test_pseudonymise_contact_and_cases_block_archived_mails(self):
        partner = self._create_partner(phone="+49 30 123456", street="Hauptstr. 1")
        case = self._create_case(
            partner_id=partner.id, email_from="erika@example.com", description="<p>Erika</p>"
        )
        entry = self.env["crm.shop.archive.entry"]._archive_raw(ERIKA_MAIL, "in")
        other = self._entry_of(self._create_inbound_mail())
        Request = self.env["crm.shop.gdpr.request"].with_user(self.archivist)
        request = Request.create({"email": "no address"})
        with self.assertRaises(UserError):
            request.action_execute()
        self.assertEqual(request.state, "draft")

        request.write({"email": "Erika@Example.com"})
        request.action_execute()
        self.assertEqual(request.state, "done")
        self.assertEqual((request.case_count, request.entry_count), (1, 1))
        self.assertNotIn("erika", request.email.lower())
        self.assertFalse(partner.email or partner.phone or partner.street)
        self.assertNotIn("Erika", partner.name)
        self.assertFalse(case.email_from or case.description)
        self.assertEqual(entry._raw_bytes()[entry.id], ERIKA_MAIL, "archived mail untouched")
        visible = self.env["crm.shop.archive.entry"].with_user(self.archivist).search([])
        self.assertEqual(visible, other)
        self.assertTrue(entry.gdpr_blocked)
        self.assertEqual(self.env["crm.shop.archive.access.log"]._verify_archive().result, "ok")
        with self.assertRaises(UserError):
            request.action_execute()
        with self.assertRaises(UserError):
            request.write({"email": "erika@example.com"})

    def test_chatter_copies_and_phone_notes_are_pseudonymised(self):
        partner = self._create_partner(name="Erika Muster")
        case = self._create_case(partner_id=partner.id, email_from="erika@example.com")
        self._flush_tracking()
        mail = case.message_post(
            body=Markup("<p>Ich wohne in der Hauptstraße 1, Tel. 030 123456</p>"),
            message_type="email",
            subtype_xmlid="mail.mt_comment",
            author_id=partner.id,
            email_from="Erika Muster <erika@example.com>",
        )
        reply = (
            case.with_user(self.agent)
            .sudo()
            .message_post(
                body=Markup("<p>Hallo Frau Muster, das Paket geht an die Hauptstraße 1.</p>"),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        )
        case.name = "Erika Muster: Paket fehlt"
        self._flush_tracking()
        note = self.env["crm.shop.phone.note"].create(
            {
                "case_id": case.id,
                "caller": "Erika Muster",
                "phone": "030 123456",
                "note": "Frau Muster ruft wegen Hauptstraße 1 an",
            }
        )
        other_case = self._create_case(name="Hauptstraße 1 der Firma")
        entry = self.env["crm.shop.archive.entry"]._archive_raw(ERIKA_MAIL, "in", record=case)
        Case = self.env["crm.shop.case"]
        self.assertIn(case, Case.search([("fulltext", "ilike", "Hauptstraße")]))

        request = self.env["crm.shop.gdpr.request"].with_user(self.archivist)
        request.create({"email": "erika@example.com", "partner_id": partner.id}).action_execute()

        for message in (mail, reply, note.message_id):
            self.assertNotIn("Hauptstra", str(message.body))
            self.assertNotIn("Muster", str(message.body))
        self.assertFalse(mail.author_id)
        self.assertNotIn("erika", mail.email_from.lower())
        self.assertEqual(reply.author_id, self.agent.partner_id, "the agent stays the author")
        values = self.env["mail.tracking.value"].search(
            [("mail_message_id", "in", case.message_ids.ids)]
        )
        self.assertTrue(values)
        for value in values:
            self.assertNotIn("Erika", f"{value.old_value_char} {value.new_value_char}")
        self.assertRecordValues(note, [{"phone": False}])
        self.assertNotIn("Muster", note.caller + note.note)
        self.assertEqual(Case.search([("fulltext", "ilike", "Hauptstraße")]), other_case)
        self.assertEqual(entry._raw_bytes()[entry.id], ERIKA_MAIL, "the original is kept")
        self.assertTrue(entry.gdpr_blocked)

    def test_gdpr_request_restricted_to_archive_group(self):
        with self.assertRaises(AccessError):
            self.env["crm.shop.gdpr.request"].with_user(self.manager).create(
                {"email": "erika@example.com"}
            )
