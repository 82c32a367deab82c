from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_mail_ingest import MailIngestCommon, read_mail


@tagged("post_install", "-at_install")
class TestMailRouting(MailIngestCommon):
    def _first_case(self):
        return self._receive(read_mail("customer_question.eml")).case_id

    def _emails(self, case):
        return case.message_ids.filtered(lambda m: m.message_type == "email")

    def test_reply_with_case_token_goes_to_its_case(self):
        case = self._first_case()
        raw = read_mail("customer_reply_token.eml", case_number=case.number, variant="1")
        inbound = self._receive_new(raw)
        self.assertEqual(inbound.case_id, case)
        self.assertEqual(len(self._emails(case)), 2)
        self.assertEqual(len(self._cases()), 1)
        self.assertIn("Danke für die schnelle Antwort", str(self._emails(case)[0].body))

    def test_customer_answer_ends_waiting_but_an_auto_reply_does_not(self):
        case = self._first_case()
        case.state = "wait_customer"
        parent = self._emails(case).message_id
        raw = read_mail("out_of_office.eml", subject="x", parent_message_id=parent, variant="3")
        self._receive_new(raw)
        self.assertEqual(case.state, "wait_customer")
        raw = read_mail("customer_reply_token.eml", case_number=case.number, variant="6")
        self._receive_new(raw)
        self.assertEqual(case.state, "in_progress")

    def test_reply_without_token_is_routed_by_in_reply_to(self):
        case = self._first_case()
        parent = self._emails(case).message_id
        raw = read_mail("customer_reply_references.eml", parent_message_id=parent, variant="1")
        self.assertEqual(self._receive_new(raw).case_id, case)
        self.assertEqual(len(self._cases()), 1)

    def test_reply_to_our_answer_is_routed_by_references(self):
        case = self._first_case()
        answer = case.message_post(
            body="Ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )
        raw = read_mail(
            "customer_reply_references.eml", parent_message_id=answer.message_id, variant="2"
        )
        self.assertEqual(self._receive_new(raw).case_id, case)

    def test_case_token_wins_over_references(self):
        first = self._first_case()
        second = self._create_case(mailbox_id=self.mailbox.id)
        raw = read_mail(
            "customer_reply_references.eml",
            parent_message_id=self._emails(first).message_id,
            variant="7",
        ).replace(b"Subject: AW: Lieferung", f"Subject: AW: [#{second.number}]".encode())
        self.assertEqual(self._receive_new(raw).case_id, second)

    def test_same_sender_without_token_or_reference_opens_a_new_case(self):
        case = self._first_case()
        raw = read_mail("customer_reply_token.eml", case_number="C-99999", variant="2")
        raw = raw.replace(b"[#C-99999] ", b"")
        inbound = self._receive_new(raw)
        self.assertNotEqual(inbound.case_id, case)
        self.assertEqual(inbound.case_id.partner_id, self.customer)

    def test_token_of_another_company_is_not_trusted(self):
        other_company = self.env["res.company"].create({"name": "Other shop"})
        foreign = self._create_case(company_id=other_company.id)
        raw = read_mail("customer_reply_token.eml", case_number=foreign.number, variant="3")
        self.assertNotEqual(self._receive_new(raw).case_id, foreign)

    def test_reply_to_a_recently_closed_case_reopens_it(self):
        self.queue.reopen_days = 14
        with freeze_time("2026-03-02 10:00:00"):
            case = self._first_case()
            case.state = "done"
        with freeze_time("2026-03-05 10:00:00"):
            raw = read_mail("customer_reply_token.eml", case_number=case.number, variant="4")
            inbound = self._receive_new(raw)
        self.assertEqual(inbound.case_id, case)
        self.assertIn(case.state, ("new", "in_progress"))
        self.assertTrue(case.message_ids.filtered(lambda m: "Reopened" in str(m.body)))

    def test_reply_to_a_case_closed_long_ago_opens_a_new_case(self):
        self.queue.reopen_days = 14
        with freeze_time("2026-03-02 10:00:00"):
            case = self._first_case()
            case.state = "done"
        with freeze_time("2026-03-20 10:00:00"):
            parent = self._emails(case).message_id
            raw = read_mail("customer_reply_references.eml", parent_message_id=parent, variant="5")
            inbound = self._receive_new(raw)
        self.assertNotEqual(inbound.case_id, case)
        self.assertEqual(case.state, "done")
        self.assertEqual(len(self._emails(case)), 1)
        self.assertIn(case.number, str(inbound.case_id.message_ids.mapped("body")))

    def test_auto_reply_is_marked_and_does_not_reopen(self):
        with freeze_time("2026-03-02 10:00:00"):
            case = self._first_case()
            case.state = "done"
        with freeze_time("2026-03-03 10:00:00"):
            raw = read_mail(
                "out_of_office.eml",
                subject="Lieferung",
                parent_message_id=self._emails(case).message_id,
                variant="1",
            )
            inbound = self._receive_new(raw)
        self.assertTrue(inbound.is_auto_reply)
        self.assertEqual(inbound.case_id, case)
        self.assertEqual(case.state, "done")

    def test_auto_reply_opening_a_case_is_flagged_on_it(self):
        raw = read_mail(
            "out_of_office.eml", subject="Newsletter", parent_message_id="<x@y>", variant="2"
        )
        case = self._receive_new(raw).case_id
        self.assertTrue(case.is_auto_reply)

    def test_sender_matching_ignores_case_and_finds_secondary_addresses(self):
        self.customer.email = "Jürgen <JUERGEN.MUELLER@EXAMPLE.DE>"
        case = self._first_case()
        self.assertEqual(case.partner_id, self.customer)
        Case = self.env["crm.shop.case"]
        multi = self.env["res.partner"].create(
            {"name": "Anna", "email": "anna@shop-a.test, Anna@Example.org"}
        )
        self.assertEqual(Case._find_partner_by_email("anna@example.ORG"), multi)
        self.assertFalse(Case._find_partner_by_email("nobody@example.org"))

    def test_unknown_sender_gets_no_contact_until_asked(self):
        partners = self.env["res.partner"].search_count([])
        case = self._receive_new(read_mail("no_message_id.eml")).case_id
        self.assertFalse(case.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        case.action_create_partner()
        self.assertEqual(case.partner_id.email_normalized, "anna@example.org")
        with self.assertRaises(UserError):
            self._create_case(email_from=False).action_create_partner()

    def test_an_agent_of_the_queue_may_create_the_senders_contact(self):
        case = self._receive_new(read_mail("no_message_id.eml")).case_id
        case.queue_id.member_ids |= self.agent
        case.with_user(self.agent).action_create_partner()
        self.assertEqual(case.partner_id.email_normalized, "anna@example.org")

    def test_mail_already_on_a_case_is_not_posted_twice(self):
        case = self._first_case()
        Inbound = self.env["crm.shop.inbound.mail"]
        copy = Inbound.create(
            {
                "mailbox_id": self.mailbox.id,
                "folder": "Archiv",
                "uidvalidity": "1",
                "uid": 1,
                "dedupe_key": "copy-in-another-folder",
                "raw": self._inbound().raw,
            }
        )
        copy._process()
        self.assertEqual((copy.state, copy.case_id), ("done", case))
        self.assertEqual(len(self._emails(case)), 1)
