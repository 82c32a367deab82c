"""A sent acknowledgement is filed in the mailbox's Sent folder, like a reply.

The IMAP adapter is replaced by the in-memory ``FakeImap`` of ``test_mail_ingest``: the
APPEND of the Sent copy against a real dovecot is covered by
``test_imap_dovecot.test_reply_is_filed_in_sent_and_the_answers_land_in_the_case`` (same
``crm.shop.sent.mail`` path) and ``tests/integration/test_imap_adapter.py``.
"""

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.utils import getaddresses, parsedate_to_datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from ..services.mime_case_tokens import extract_case_token
from .test_mail_ingest import MailIngestCommon, read_mail

NOW = datetime(2026, 3, 4, 9, 0)
SENT_CRON = "mail_crm_shop.ir_cron_append_sent_mail"


@tagged("post_install", "-at_install")
class TestAckSentFolder(MailIngestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.queue.write({"ack_enabled": True, "ack_throttle_hours": 24})

    # --- helpers ---------------------------------------------------------------------

    def _case_of_new(self, raw):
        """Deliver, sync and process ``raw``; return the case it opened."""
        inbound = self._receive_new(raw)
        self.assertTrue(inbound.case_id)
        return inbound.case_id

    def _question(self, sender="Erika Muster <erika@kunde.example>", variant="1", extra=b""):
        raw = read_mail(
            "ack_new_question.eml", sender=sender, subject="Artikel 4711", variant=variant
        )
        return raw.replace(b"MIME-Version:", extra + b"MIME-Version:", 1)

    def _ack(self, case):
        return case.message_ids.filtered(lambda m: m.message_type == "auto_comment")

    def _sent_rows(self, case):
        return self.env["crm.shop.sent.mail"].search([("case_id", "=", case.id)])

    def _sent_folder(self):
        return list(self.server.folders.get("Sent", {}).get("messages", {}).values())

    # --- filed -------------------------------------------------------------------------

    def test_ack_to_an_unknown_sender_is_filed_once_with_its_address(self):
        case = self._case_of_new(self._question())
        self.assertFalse(case.partner_id, "the sender has no contact")
        self.assertEqual(case.ack_reason, "sent")
        ack = self._ack(case)
        self.assertEqual(len(ack), 1)
        sent = self._sent_rows(case)
        self.assertEqual(len(sent), 1, "one Sent copy, for the acknowledgement")
        self.assertEqual((sent.message_id, sent.mailbox_id), (ack, self.mailbox))
        self.assertEqual(sent.state, "pending")

        self._run_cron(SENT_CRON)
        self.assertEqual(sent.state, "done", sent.last_error)
        (raw,) = self._sent_folder()
        copy = message_from_bytes(raw, policy=policy.default)
        self.assertEqual(getaddresses([copy["To"]]), [("", "erika@kunde.example")])
        self.assertEqual(extract_case_token(copy["Subject"]), case.number)
        self.assertEqual(copy["Subject"], ack.subject)
        self.assertIn("service@shop.test", copy["From"])
        outgoing = self.env["mail.mail"].search([("mail_message_id", "=", ack.id)])
        self.assertEqual(outgoing.email_to, "erika@kunde.example")
        self.assertEqual(copy["Message-ID"], outgoing.message_id, "the customer's answer threads")
        self.assertEqual(copy["Message-ID"], ack.message_id)
        self.assertEqual(
            parsedate_to_datetime(copy["Date"]).replace(tzinfo=None),
            ack.date.replace(microsecond=0),
        )
        self.assertIn(case.number, copy.get_body().get_content())

        # a second run (another worker, a retried cron) appends nothing more
        with freeze_time(datetime.now() + timedelta(hours=1)):
            self._run_cron(SENT_CRON)
        self.assertEqual(len(self._sent_folder()), 1)
        self.assertEqual(sent.state, "done")

    def test_filed_ack_threads_under_the_customers_mail_as_the_sent_one(self):
        case = self._case_of_new(self._question(variant="refs"))
        question_id = "<ack-question-refs@mail.example.de>"
        ack = self._ack(case)
        self.assertEqual(ack.parent_id.message_id, question_id)
        outgoing = self.env["mail.mail"].search([("mail_message_id", "=", ack.id)])
        self.assertEqual(len(outgoing), 1)
        self._run_cron(SENT_CRON)
        (raw,) = self._sent_folder()
        self.assertIn(f"In-Reply-To: {question_id}".encode(), raw)
        copy = message_from_bytes(raw, policy=policy.default)
        self.assertEqual(copy["In-Reply-To"], question_id)
        self.assertIn(f"'In-Reply-To': '{question_id}'", outgoing.headers, "as it went out")
        self.assertIn(question_id, copy["References"].split())
        self.assertIn(question_id, outgoing.references.split(), "as it went out")
        self.assertEqual(copy["References"], outgoing.references, "the copy is the sent mail")

    def test_ack_to_a_known_contact_names_it_once(self):
        case = self._case_of_new(read_mail("customer_question.eml"))
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(case.ack_reason, "sent")
        sent = self._sent_rows(case)
        self.assertEqual(len(sent), 1)
        copy = message_from_bytes(sent._build_raw(), policy=policy.default)
        self.assertEqual(
            getaddresses([copy["To"]]), [("Jürgen Müller", "juergen.mueller@example.de")]
        )
        self.assertEqual(extract_case_token(copy["Subject"]), case.number)

    def test_customer_answer_to_the_filed_ack_lands_in_the_case(self):
        case = self._case_of_new(self._question(variant="thread"))
        self._run_cron(SENT_CRON)
        (raw,) = self._sent_folder()
        message_id = message_from_bytes(raw, policy=policy.default)["Message-ID"]
        answer = self._question(variant="answer", extra=f"In-Reply-To: {message_id}\n".encode())
        answer = answer.replace(b"Subject: Artikel 4711", b"Subject: AW: Artikel 4711")
        self.assertEqual(self._case_of_new(answer), case, "routed by In-Reply-To, no token")
        self.assertEqual(len(self._sent_rows(case)), 1, "the answer is no acknowledgement")

    def test_ack_row_locked_by_another_worker_is_left_to_it(self):
        case = self._case_of_new(self._question(variant="lock"))
        sent = self._sent_rows(case)
        SentMail = type(sent)
        with patch.object(SentMail, "_shop_try_lock_for_update", lambda rows: rows.browse()):
            self._run_cron(SENT_CRON)
        self.assertEqual(sent.state, "pending", "the other worker's row")
        self.assertFalse(self._sent_folder())
        self._run_cron(SENT_CRON)
        self.assertEqual(sent.state, "done")
        self.assertEqual(len(self._sent_folder()), 1)

    def test_reply_copy_keeps_its_contact_recipients(self):
        case = self._case_of_new(read_mail("customer_question.eml"))
        reply = case.message_post(
            body="Ihre Sendung ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )
        sent = self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)])
        self.assertEqual(len(sent), 1)
        self.assertEqual(len(self._sent_rows(case)), 2, "the acknowledgement and the reply")
        copy = message_from_bytes(sent._build_raw(), policy=policy.default)
        self.assertEqual(
            getaddresses([copy["To"]]), [("Jürgen Müller", "juergen.mueller@example.de")]
        )
        self.assertEqual(copy["In-Reply-To"], reply.parent_id.message_id, "a reply threads too")
        self.assertIn(reply.parent_id.message_id, copy["References"].split())

    def test_reply_copy_keeps_the_references_the_mail_went_out_with(self):
        case = self._case_of_new(read_mail("customer_question.eml"))
        ack = self._ack(case)
        reply = case.message_post(
            body="Ihre Sendung ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )
        outgoing = self.env["mail.mail"].search([("mail_message_id", "=", reply.id)])
        self.assertEqual(len(outgoing), 1)
        sent_ids = outgoing.references.split()
        # Odoo's rule: the thread's last public mails, then the mail's own Message-ID
        self.assertEqual(sent_ids[-1], reply.message_id)
        self.assertIn(ack.message_id, sent_ids, "the acknowledgement before it")
        # the mail goes out and is deleted; later mails on the case change nothing
        outgoing.unlink()
        case.message_post(
            body="Noch eine Frage?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        sent = self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)])
        copy = message_from_bytes(sent._build_raw(), policy=policy.default)
        self.assertEqual(copy["References"].split(), sent_ids)
        self.assertEqual(copy["In-Reply-To"], reply.parent_id.message_id)

    def test_other_mails_leave_the_sent_rows_alone(self):
        """A mail of another document (an order mail) costs no Sent-row look-up."""
        partner = self.customer
        with self.assertQueryCount(0):
            self.env["crm.shop.sent.mail"]._shop_take_references(self.env["mail.mail"])
        mail = self.env["mail.mail"].create(
            {
                "model": "res.partner",
                "res_id": partner.id,
                "body_html": "<p>Hallo</p>",
                "email_to": partner.email,
                "references": "<x@shop.test>",
            }
        )
        with self.assertQueryCount(0):  # as right after its create: no Sent-row search
            self.env["crm.shop.sent.mail"]._shop_take_references(mail)

    # --- not filed when not sent -------------------------------------------------------

    def test_suppressed_ack_is_not_filed(self):
        listed = self._question(variant="list", extra=b"List-Id: Kunden <kunden.example>\n")
        case = self._case_of_new(listed)
        self.assertEqual(case.ack_reason, "suppressed")
        self.assertFalse(self._sent_rows(case))
        self._run_cron(SENT_CRON)
        self.assertFalse(self._sent_folder())

    def test_throttled_ack_is_not_filed(self):
        with freeze_time(NOW):
            first = self._case_of_new(self._question(variant="t1"))
        with freeze_time(NOW + timedelta(hours=2)):
            second = self._case_of_new(self._question(variant="t2"))
        self.assertEqual((first.ack_reason, second.ack_reason), ("sent", "throttled"))
        self.assertEqual(len(self._sent_rows(first)), 1)
        self.assertFalse(self._sent_rows(second))

    def test_ack_with_a_broken_template_is_not_filed(self):
        broken = self.env.ref("mail_crm_shop.mail_template_case_ack").copy(
            {"body_html": '<p t-out="object.no_such_field"/>'}
        )
        self.queue.ack_template_id = broken
        with self.assertLogs("odoo.addons.mail_crm_shop.models.crm_shop_case_ack", "WARNING"):
            case = self._case_of_new(self._question(variant="broken"))
        self.assertEqual(case.ack_reason, "error")
        self.assertFalse(self._sent_rows(case))
        self.queue.ack_template_id = False  # back to the standard template
        later = self._case_of_new(self._question(sender="olaf@kunde.example", variant="fixed"))
        self.assertEqual(later.ack_reason, "sent")
        self.assertEqual(len(self._sent_rows(later)), 1)
