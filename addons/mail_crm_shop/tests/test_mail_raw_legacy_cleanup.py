"""Filestore copies of raw mails from before the archive held the only copy: removed by
a daily cron once the mail's archive entry holds the same bytes, kept otherwise."""

import base64
import logging

from odoo.tests import tagged

from .test_mail_ingest import MailIngestCommon, read_mail
from .test_mail_ingest_chunks import _other_question

CRON = "mail_crm_shop.ir_cron_drop_legacy_raw_copies"
LOGGER = "odoo.addons.mail_crm_shop.models.crm_shop_inbound_mail_archive"


@tagged("post_install", "-at_install")
class TestMailRawLegacyCleanup(MailIngestCommon):
    def _mail(self, uid, raw=None):
        """A stored mail, archived with ``raw`` when given (its entry holds the bytes)."""
        vals = {
            "mailbox_id": self.mailbox.id,
            "folder": "INBOX",
            "uidvalidity": "1",
            "uid": uid,
            "dedupe_key": f"legacy-{uid}",
        }
        if raw is not None:
            vals["raw"] = base64.b64encode(raw)
        return self.env["crm.shop.inbound.mail"].create(vals)

    def _legacy_copy(self, mail, raw):
        """The filestore attachment of the former stored ``raw`` field."""
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": "raw",
                    "res_model": "crm.shop.inbound.mail",
                    "res_field": "raw",
                    "res_id": mail.id,
                    "raw": raw,
                }
            )
        )

    def _entry(self, mail):
        return self.env["crm.shop.archive.entry"].search(
            [("res_model", "=", "crm.shop.inbound.mail"), ("res_id", "=", mail.id)]
        )

    def _remove_archived_content(self, mail):
        """The entry's bytes deleted as at the end of the retention (the approved path)."""
        entry = self._entry(mail)
        self.assertEqual(len(entry), 1)
        cr = self.env.cr
        cr.execute("SELECT set_config('crm_shop_archive.tombstone', %s, true)", [entry.chain_hash])
        cr.execute("UPDATE crm_shop_archive_entry SET raw_content = NULL WHERE id = %s", [entry.id])
        cr.execute("SELECT set_config('crm_shop_archive.tombstone', '', true)")
        entry.invalidate_recordset()

    def _clean_up(self, removed):
        # logging.INFO, not "INFO": Odoo gives that name to its level 25
        with self.assertLogs(LOGGER, logging.INFO) as logs:
            self._run_cron(CRON)
        self.assertIn(f"Removed {removed} filestore copies", "\n".join(logs.output))
        self.env.invalidate_all()

    def test_the_cron_is_a_daily_active_scheduled_action(self):
        cron = self.env.ref(CRON)
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        self.assertEqual(cron.model_id.model, "crm.shop.inbound.mail")

    def test_copy_the_archive_holds_identically_is_removed_and_raw_reads_the_same(self):
        raw = read_mail("customer_question.eml")
        mail = self._mail(1, raw)
        copy = self._legacy_copy(mail, raw)
        self.assertEqual(mail._get_raw(), raw)
        self._clean_up(removed=1)
        self.assertFalse(copy.exists(), "the second copy of the same bytes is gone")
        self.assertEqual(mail._get_raw(), raw, "read from the archive now")
        self.assertEqual(base64.b64decode(mail.raw), raw)

    def test_copy_is_kept_when_the_archive_holds_no_bytes_of_the_mail(self):
        raw = read_mail("customer_question.eml")
        deleted = self._mail(1, raw)
        self._remove_archived_content(deleted)
        deleted_copy = self._legacy_copy(deleted, raw)
        never_archived = self._mail(2)
        self.assertFalse(self._entry(never_archived))
        other = _other_question(2)
        never_archived_copy = self._legacy_copy(never_archived, other)
        self._clean_up(removed=0)
        self.assertTrue(deleted_copy.exists(), "the only copy stays")
        self.assertTrue(never_archived_copy.exists(), "the only copy stays")
        self.assertEqual(deleted._get_raw(), raw)
        self.assertEqual(never_archived._get_raw(), other)

    def test_copy_with_other_bytes_than_the_archive_is_kept(self):
        archived = read_mail("customer_question.eml")
        mail = self._mail(1, archived)
        copy = self._legacy_copy(mail, _other_question(1))
        self._clean_up(removed=0)
        self.assertTrue(copy.exists(), "not the same mail: nothing is known to be a copy")
        self.assertEqual(mail._get_raw(), archived, "the archive's bytes come first")

    def test_kept_copies_are_searched_past_batch_after_batch_and_a_second_run_is_a_no_op(self):
        raw = read_mail("customer_question.eml")
        kept_mail = self._mail(1, raw)
        kept = self._legacy_copy(kept_mail, _other_question(1))  # lowest id, kept
        mails = self._mail(2, _other_question(2)) | self._mail(3, _other_question(3))
        copies = self._legacy_copy(mails[0], _other_question(2)) | self._legacy_copy(
            mails[1], _other_question(3)
        )
        self.env.ref(CRON).code = "model._cron_drop_legacy_raw_copies(batch_size=1)"
        self._clean_up(removed=2)
        self.assertFalse(copies.exists())
        self.assertTrue(kept.exists())
        self._clean_up(removed=0)  # again: nothing left to remove, no error
        self.assertTrue(kept.exists())
        for index, mail in enumerate(mails, start=2):
            self.assertEqual(mail._get_raw(), _other_question(index))
