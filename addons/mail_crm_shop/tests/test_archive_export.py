import io
import json
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from ..wizards.crm_shop_archive_export import CHECK_SCRIPT
from .test_archive_entry import DATA, ArchiveCase


@tagged("post_install", "-at_install")
class TestArchiveExport(ArchiveCase):
    def _export(self, date_from, date_to, user=None):
        wizard_env = self.env["crm.shop.archive.export"].with_user(user or self.archivist)
        form = Form(wizard_env)
        form.date_from = date.fromisoformat(str(date_from))
        form.date_to = date.fromisoformat(str(date_to))
        action = form.save().action_export()
        log = self.env["crm.shop.archive.access.log"].search([("action", "=", "export")], limit=1)
        self.assertIn(f"/web/content/{log.attachment_id.id}", action["url"])
        return log

    def test_export_verifies_with_the_documented_command(self):
        with freeze_time("2026-03-01 10:00:00"):
            before = self._create_inbound_mail(uid=1)
        with freeze_time("2026-03-02 10:00:00"):
            inside = self._create_inbound_mail((DATA / "out_of_office.eml").read_bytes(), uid=2)
        with freeze_time("2026-03-05 10:00:00"):
            self._create_inbound_mail((DATA / "no_message_id.eml").read_bytes(), uid=3)
        log = self._export("2026-03-02", "2026-03-04")
        self.assertEqual(log.entry_ids, self._entry_of(inside))
        self.assertEqual(log.user_id, self.archivist)
        data = log.attachment_id.raw
        with zipfile.ZipFile(io.BytesIO(data)) as export:
            manifest = json.loads(export.read("manifest.json"))
            readme = export.read("README.txt").decode()
            names = export.namelist()
        self.assertEqual(manifest["entry_count"], 1)
        case = self._create_case(name="Lieferung 1042")
        inside.case_id = case
        self.assertEqual(self._entry_of(inside)._to_service(with_raw=False).case, case.display_name)
        self.assertEqual(manifest["prev_chain_hash"], self._entry_of(before).chain_hash)
        self.assertIn("python3 verify_archive_export.py", readme)
        self.assertIn("verify_archive_export.py", names)

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
        self.assertTrue(result.stdout.startswith("OK"), result.stdout)

    def test_tampered_archive_not_exported_then_exported_when_repaired(self):
        # late evening in UTC is already the next day in Berlin, the export's calendar
        with freeze_time("2026-03-02 23:30:00"):
            entry = self._entry_of(self._create_inbound_mail())
        raw = entry._raw_bytes()[entry.id]
        self._tamper(entry, raw.replace(b"1042", b"1043", 1))
        day = date(2026, 3, 3)
        with self.assertRaisesRegex(UserError, "chain broken at sequence"):
            self._export(day, day)
        self.assertFalse(
            self.env["crm.shop.archive.access.log"].search([("action", "=", "export")])
        )
        self._tamper(entry, raw)
        self.assertEqual(self._export(day, day).entry_ids, entry)

    def test_bad_period_and_outsiders_refused(self):
        with self.assertRaises(UserError):
            self._export("2026-03-05", "2026-03-01")
        with self.assertRaises(AccessError):
            self._export("2026-03-01", "2026-03-05", user=self.manager)
