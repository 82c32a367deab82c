import ast
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from ..services.mime_case_tokens import extract_case_token
from .test_mail_ingest import MailIngestCommon, read_mail

NOW = datetime(2026, 3, 4, 9, 0)


@tagged("post_install", "-at_install")
class TestCaseAck(MailIngestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.env["ir.module.module"]._load_module_terms(["mail_crm_shop"], ["de_DE"], overwrite=True)
        cls.customer.lang = "de_DE"
        cls.queue.write({"ack_enabled": True, "ack_throttle_hours": 24})

    # --- helpers ---------------------------------------------------------------------

    def _question(self, sender="Erika Muster <erika@kunde.example>", variant="1", extra=b""):
        raw = read_mail(
            "ack_new_question.eml", sender=sender, subject="Artikel 4711", variant=variant
        )
        return raw.replace(b"MIME-Version:", extra + b"MIME-Version:", 1)

    def _acks(self, case):
        """The acknowledgement messages in the case's chatter."""
        return case.message_ids.filtered(lambda m: m.message_type == "auto_comment")

    def _ack_mails(self, case):
        return self.env["mail.mail"].search(
            [("model", "=", "crm.shop.case"), ("res_id", "=", case.id)]
        )

    # --- sent ------------------------------------------------------------------------

    def test_new_case_gets_one_german_ack_with_the_case_token(self):
        case = self._receive_new(read_mail("customer_question.eml")).case_id
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(case.ack_reason, "sent")
        self.assertEqual(case.ack_email, "juergen.mueller@example.de")
        self.assertTrue(case.ack_date)
        mail = self._ack_mails(case)
        self.assertEqual(len(mail), 1, "exactly one mail queued")
        self.assertEqual(mail.state, "outgoing", "queued for the mail queue cron")
        self.assertEqual(mail.recipient_ids, self.customer, "to the customer only")
        self.assertEqual(extract_case_token(mail.subject), case.number)
        self.assertIn("Wir haben Ihre Nachricht erhalten", mail.subject)
        self.assertIn("Ihre Vorgangsnummer", str(mail.body_html))
        self.assertIn(case.number, str(mail.body_html))
        self.assertIn("service@shop.test", mail.email_from, "from the case's mailbox")
        self.assertIn("service@shop.test", mail.reply_to)
        message = self._acks(case)
        self.assertEqual(len(message), 1, "in the chatter as an automatic message")
        self.assertEqual(message.mail_ids, mail)
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))

    def test_unknown_sender_gets_the_ack_by_address_in_the_company_language(self):
        case = self._receive_new(self._question()).case_id
        self.assertFalse(case.partner_id)
        self.assertEqual(case.ack_reason, "sent")
        mail = self._ack_mails(case)
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.recipient_ids, "no contact is created for the acknowledgement")
        self.assertEqual(mail.email_to, "erika@kunde.example")
        self.assertIn("We have received your message", mail.subject)
        self.assertEqual(extract_case_token(mail.subject), case.number)

    def test_followers_are_not_sent_the_ack(self):
        self.queue.write({"assignment_mode": "round_robin"})
        case = self._receive_new(self._question()).case_id
        self.assertTrue(case.user_id, "the assignee follows the case")
        self.assertIn(case.user_id.partner_id, case.message_partner_ids)
        notified = self._acks(case).notification_ids
        self.assertEqual(notified.mapped("mail_email_address"), ["erika@kunde.example"])
        self.assertFalse(notified.res_partner_id)

    # --- exactly once, only for a case a mail opened -----------------------------------

    def test_mails_into_an_existing_case_send_no_further_ack(self):
        case = self._receive_new(read_mail("customer_question.eml")).case_id
        raw = read_mail("customer_reply_token.eml", case_number=case.number, variant="1")
        self.assertEqual(self._receive_new(raw).case_id, case)
        self.assertEqual(len(self._acks(case)), 1)
        self.assertEqual(len(self._ack_mails(case)), 1)

    def test_customer_reply_to_the_ack_lands_in_the_same_case(self):
        case = self._receive_new(self._question()).case_id
        subject = self._ack_mails(case).subject
        raw = self._question(variant="answer").replace(
            b"Subject: Artikel 4711", f"Subject: AW: {subject}".encode()
        )
        self.assertEqual(self._receive_new(raw).case_id, case, "routed by the token")
        self.assertEqual(len(self._cases()), 1)
        self.assertEqual(len(self._acks(case)), 1)

    def test_reopened_case_gets_no_ack(self):
        case = self._receive_new(self._question()).case_id
        case.state = "done"
        raw = self._question(variant="reopen").replace(
            b"Subject: Artikel 4711", f"Subject: AW: [#{case.number}] Artikel 4711".encode()
        )
        with freeze_time(datetime.now() + timedelta(days=2)):  # past the throttle window
            self.assertEqual(self._receive_new(raw).case_id, case)
        self.assertEqual(case.state, "new", "reopened")
        self.assertEqual(len(self._acks(case)), 1)

    def test_cases_made_by_hand_get_no_ack(self):
        case = self._create_case(mailbox_id=self.mailbox.id, email_from="erika@kunde.example")
        self.assertFalse(case.ack_reason)
        self.assertFalse(self._ack_mails(case))

    # --- never for automatic mail or unattended senders ------------------------------

    def _assert_not_acknowledged(self, raw, reason):
        case = self._receive_new(raw).case_id
        self.assertTrue(case)
        self.assertEqual(case.ack_reason, reason)
        self.assertFalse(self._acks(case))
        self.assertFalse(self._ack_mails(case))
        return case

    def test_out_of_office_gets_no_ack(self):
        raw = read_mail(
            "out_of_office.eml", subject="Angebot", parent_message_id="<x@y.test>", variant="1"
        )
        case = self._assert_not_acknowledged(raw, "auto_reply")
        self.assertTrue(case.is_auto_reply)

    def test_bounce_gets_no_ack(self):
        self._assert_not_acknowledged(read_mail("ack_bounce.eml", variant="1"), "bounce")

    def test_list_mail_and_suppress_requests_get_no_ack(self):
        listed = self._question(variant="list", extra=b"List-Id: Kunden <kunden.example>\n")
        self._assert_not_acknowledged(listed, "suppressed")
        asked = self._question(
            sender="olaf@kunde.example", variant="xars", extra=b"X-Auto-Response-Suppress: All\n"
        )
        self._assert_not_acknowledged(asked, "suppressed")

    def test_no_ack_to_our_own_or_no_reply_or_missing_senders(self):
        self.mailbox.copy({"name": "Marktplatz", "email": "market@shop.test"})
        own = self._question(sender="Marktplatz <Market@Shop.Test>", variant="own")
        self._assert_not_acknowledged(own, "own_address")
        no_reply = self._question(sender="no-reply@marketplace.example", variant="noreply")
        self._assert_not_acknowledged(no_reply, "system_sender")
        no_sender = self._question(variant="nosender").replace(
            b"From: Erika Muster <erika@kunde.example>\n", b""
        )
        self._assert_not_acknowledged(no_sender, "no_sender")
        invalid = self._question(sender="erika@localhost", variant="invalid")
        self._assert_not_acknowledged(invalid, "invalid_sender")
        self.agent.partner_id.email = "anton.agent@shop.example"
        colleague = self._question(sender="Anton <anton.agent@shop.example>", variant="team")
        self._assert_not_acknowledged(colleague, "internal_sender")

    # --- throttle ----------------------------------------------------------------------

    def test_one_ack_per_sender_within_the_throttle_window(self):
        with freeze_time(NOW):
            first = self._receive_new(self._question(variant="t1")).case_id
        with freeze_time(NOW + timedelta(hours=23)):
            second = self._receive_new(
                self._question(sender="ERIKA@kunde.EXAMPLE", variant="t2")
            ).case_id
        with freeze_time(NOW + timedelta(hours=25)):
            third = self._receive_new(self._question(variant="t3")).case_id
        self.assertEqual(len(first | second | third), 3, "three new cases")
        self.assertEqual(first.ack_reason, "sent")
        self.assertEqual(second.ack_reason, "throttled", "same sender, any letter case")
        self.assertFalse(self._ack_mails(second))
        self.assertEqual(third.ack_reason, "sent", "the window is over")
        self.assertEqual(len(self._ack_mails(third)), 1)

    def test_throttle_is_per_sender(self):
        with freeze_time(NOW):
            self._receive_new(self._question(variant="p1"))
            other = self._receive_new(self._question(sender="olaf@kunde.example", variant="p2"))
        self.assertEqual(other.case_id.ack_reason, "sent")

    # --- off, SLA, failures, access ----------------------------------------------------

    def test_queue_with_ack_off_sends_none_and_costs_no_query(self):
        self.queue.ack_enabled = False
        Inbound = type(self.env["crm.shop.inbound.mail"])
        original = Inbound._acknowledge_new_case
        queries = []

        def counting(mail, *args):
            before = mail.env.cr.sql_log_count
            original(mail, *args)
            queries.append(mail.env.cr.sql_log_count - before)

        with patch.object(Inbound, "_acknowledge_new_case", counting):
            case = self._receive_new(self._question(variant="off")).case_id
        self.assertEqual(queries, [0], "called once, in the ingest, without a query")
        self.assertFalse(case.ack_reason)
        self.assertFalse(self._acks(case))
        self.assertFalse(self._ack_mails(case))

    def test_ack_does_not_count_as_first_response(self):
        self.queue.write({"sla_first_response_hours": 4, "sla_calendar_hours": True})
        # processed by a person (not the superuser): a reply would be a first response
        case = self._receive_new(self._question(variant="sla"), user=self.manager).case_id
        self.assertEqual(case.ack_reason, "sent")
        self.assertTrue(case.sla_first_response_deadline)
        self.assertFalse(case.first_response_date, "the SLA clock still runs")
        self.assertFalse(case.lock_user_id, "nobody works on it yet")
        case.with_user(self.manager).message_post(
            body="Ist wieder lieferbar.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(case.first_response_date, "a real answer stops it")

    def test_broken_template_keeps_the_case_and_records_why(self):
        broken = self.env.ref("mail_crm_shop.mail_template_case_ack").copy(
            {"body_html": '<p t-out="object.no_such_field"/>'}
        )
        self.queue.ack_template_id = broken
        with self.assertLogs("odoo.addons.mail_crm_shop.models.crm_shop_case_ack", "WARNING"):
            case = self._receive_new(self._question(variant="broken")).case_id
        self.assertEqual(case.ack_reason, "error")
        self.assertFalse(self._ack_mails(case))
        notes = case.message_ids.filtered(lambda m: "could not be sent" in str(m.body))
        self.assertEqual(len(notes), 1)
        self.queue.ack_template_id = False  # back to the standard template
        later = self._receive_new(self._question(sender="olaf@kunde.example", variant="fixed"))
        self.assertEqual(later.case_id.ack_reason, "sent")

    def test_ack_fields_are_readonly_for_users_and_the_queue_option_for_managers(self):
        case = self._receive_new(self._question(variant="acl")).case_id
        case.with_user(self.agent).write({"priority": "1"})  # the agent may edit the case
        with self.assertRaises(AccessError):
            case.with_user(self.agent).write({"ack_reason": "throttled"})
        with self.assertRaises(AccessError):
            case.with_user(self.manager).write({"ack_email": "x@y.example"})
        with self.assertRaises(AccessError):
            self.queue.with_user(self.agent).write({"ack_enabled": False})
        self.queue.with_user(self.manager).write({"ack_throttle_hours": 48})
        self.assertEqual(self.queue.ack_throttle_hours, 48)
        self.assertEqual(case.ack_reason, "sent")

    def test_pseudonymising_the_case_clears_the_ack_address(self):
        case = self._receive_new(self._question(variant="gdpr")).case_id
        self.assertEqual(case.ack_email, "erika@kunde.example")
        case.sudo().write({"email_from": False})
        self.assertFalse(case.ack_email)
        self.assertEqual(case.ack_reason, "sent")


@tagged("post_install", "-at_install")
class TestCaseAckThreading(MailIngestCommon, MockEmail):
    """The acknowledgement answers the customer's mail that opened the case: mail clients
    thread it under that mail (In-Reply-To / References)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.queue.write({"ack_enabled": True, "ack_throttle_hours": 24})

    def _question(self, variant, extra=b""):
        raw = read_mail(
            "ack_new_question.eml",
            sender="Erika Muster <erika@kunde.example>",
            subject="Artikel 4711",
            variant=variant,
        )
        return raw.replace(b"MIME-Version:", extra + b"MIME-Version:", 1)

    def test_ack_mail_answers_the_mail_that_opened_the_case(self):
        # the customer's mail answers a mail we do not know: no case, a new one
        unknown = b"<order-17@shop-system.example>"
        raw = self._question(
            "thread", extra=b"In-Reply-To: " + unknown + b"\nReferences: " + unknown + b"\n"
        )
        case = self._receive_new(raw).case_id
        question_id = "<ack-question-thread@mail.example.de>"
        first = case.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(first.message_id, question_id)
        ack = case.message_ids.filtered(lambda m: m.message_type == "auto_comment")
        self.assertEqual(len(ack), 1)
        self.assertEqual(ack.parent_id, first, "posted as the answer to the customer's mail")
        mail = self.env["mail.mail"].search([("mail_message_id", "=", ack.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(ast.literal_eval(mail.headers)["In-Reply-To"], question_id)
        self.assertIn(question_id, mail.references.split())

        with self.mock_mail_gateway():
            mail.send()
        self.assertEqual(len(self._mails), 1)
        sent = self._mails[0]["EmailMessage"]
        self.assertEqual(sent["Message-Id"], ack.message_id)
        self.assertEqual(sent["In-Reply-To"], question_id)
        self.assertIn(question_id, sent["References"].split())
        self.assertNotIn("<order-17@shop-system.example>", sent["In-Reply-To"])

    def test_ack_answers_the_first_mail_not_a_later_note(self):
        """A note posted on the new case before the acknowledgement is decided (as an
        automation could) is not what the acknowledgement answers."""
        Case = type(self.env["crm.shop.case"])
        original = Case._ack_new_case

        def with_note(case, *args, **kwargs):
            case.message_post(body="Intern: Lager fragen", subtype_xmlid="mail.mt_note")
            case.message_post(body="Kommentar", message_type="comment")
            return original(case, *args, **kwargs)

        with patch.object(Case, "_ack_new_case", with_note):
            case = self._receive_new(self._question("note")).case_id
        ack = case.message_ids.filtered(lambda m: m.message_type == "auto_comment")
        self.assertEqual(ack.parent_id.message_id, "<ack-question-note@mail.example.de>")
        mail = self.env["mail.mail"].search([("mail_message_id", "=", ack.id)])
        self.assertEqual(
            ast.literal_eval(mail.headers)["In-Reply-To"], "<ack-question-note@mail.example.de>"
        )

    def test_finding_the_first_mail_costs_one_cheap_lookup_at_most(self):
        Case = type(self.env["crm.shop.case"])
        original = Case._ack_first_message
        found = []

        def counting(case):
            before = case.env.cr.sql_log_count
            first = original(case)
            queries = case.env.cr.sql_log_count - before
            found.append((queries, first.message_id))  # the cron's cursor closes after
            return first

        with patch.object(Case, "_ack_first_message", counting):
            case = self._receive_new(self._question("lookup")).case_id
        self.assertEqual(len(found), 1)
        queries, question_id = found[0]
        self.assertLessEqual(queries, 1)
        self.assertEqual(question_id, "<ack-question-lookup@mail.example.de>")
        self.assertEqual(case.ack_reason, "sent")

    def test_case_made_by_hand_is_still_not_acknowledged(self):
        case = self._create_case(mailbox_id=self.mailbox.id, email_from="erika@kunde.example")
        case.message_post(body="Anruf notiert", message_type="comment")
        self.assertFalse(case.ack_reason)
        self.assertFalse(case.message_ids.filtered(lambda m: m.message_type == "auto_comment"))
        self.assertFalse(self.env["mail.mail"].search([("res_id", "=", case.id)]).headers)
        # sent anyway (no customer mail to answer): no In-Reply-To is made up
        ack = case._ack_send(self.queue._ack_template(), "erika@kunde.example")
        self.assertEqual(len(ack.mail_ids), 1)
        self.assertNotIn("In-Reply-To", ast.literal_eval(ack.mail_ids.headers))
