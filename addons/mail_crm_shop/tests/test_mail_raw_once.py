"""A stored mail's raw bytes are kept once, in its GoBD archive entry."""

import base64
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import human_size

from ..models import crm_shop_inbound_mail_archive as inbound_archive
from .test_mail_ingest import MailIngestCommon, read_mail
from .test_mail_ingest_chunks import _other_question


@tagged("post_install", "-at_install")
class TestMailRawOnce(MailIngestCommon):
    def _raw_attachments(self, mails):
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "crm.shop.inbound.mail"),
                    ("res_field", "=", "raw"),
                    ("res_id", "in", mails.ids),
                ]
            )
        )

    def test_stored_mail_keeps_its_bytes_in_the_archive_only(self):
        raw = read_mail("customer_question.eml")
        self.server.deliver(raw)
        self._sync()
        mail = self._inbound()
        self.assertEqual(len(mail), 1)
        self.assertFalse(self._raw_attachments(mail), "no second copy in the filestore")
        entry = self.env["crm.shop.archive.entry"].search(
            [("res_model", "=", "crm.shop.inbound.mail"), ("res_id", "=", mail.id)]
        )
        self.assertEqual(entry._raw_bytes()[entry.id], mail._get_raw())
        self.assertEqual(mail._get_raw().replace(b"\r\n", b"\n"), raw.replace(b"\r\n", b"\n"))
        # the form's download field gives the same bytes, its size with bin_size
        self.assertEqual(base64.b64decode(mail.raw), mail._get_raw())
        sized = self.env["crm.shop.inbound.mail"].with_context(bin_size=True).browse(mail.id)
        self.assertEqual(
            sized.raw, human_size(len(mail._get_raw())).encode()
        )  # as the ORM caches it
        self._process()
        self.assertEqual(mail.state, "done", mail.last_error)

    def test_batch_reads_the_bytes_a_few_megabytes_per_query(self):
        raws = [_other_question(index) for index in range(3)]
        for raw in raws:
            self.server.deliver(raw)
        self._sync()
        mails = self._inbound().sorted("id")
        with patch.object(inbound_archive, "RAW_READ_BYTES", len(raws[0]) + 1):
            count = self.cr.sql_log_count
            read = dict(mails._iter_raw())
            queries = self.cr.sql_log_count - count
        self.assertEqual(queries, 1 + 3, "sizes first, then one query per group")
        self.assertEqual(set(read), set(mails.ids))
        for mail in mails:
            self.assertEqual(read[mail.id], mail._get_raw())
        self.assertEqual(mails[0]._raw_by_id(), {mails[0].id: read[mails[0].id]})

    def test_mail_stored_before_keeps_its_filestore_copy_readable(self):
        """Databases from before: the bytes of older mails are in an attachment of the
        former stored field, and their archive entry may hold none (a removed content)."""
        raw = read_mail("customer_question.eml")
        mail = self.env["crm.shop.inbound.mail"].create(
            {
                "mailbox_id": self.mailbox.id,
                "folder": "INBOX",
                "uidvalidity": "1",
                "uid": 77,
                "dedupe_key": "stored-before",
            }
        )
        self.assertEqual(mail._get_raw(), b"", "no bytes anywhere")
        self.assertFalse(mail.raw)
        self.env["ir.attachment"].sudo().create(
            {
                "name": "raw",
                "res_model": "crm.shop.inbound.mail",
                "res_field": "raw",
                "res_id": mail.id,
                "raw": raw,
            }
        )
        self.assertEqual(mail._get_raw(), raw)
        mail._process()
        self.assertEqual(mail.state, "done", mail.last_error)
        self.assertTrue(mail.case_id)
