from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import MailCrmShopCase
from .test_mail_ingest import MailIngestCommon

DUE = datetime(2026, 3, 10, 8, 0)

CUSTOMER_MAIL = """\
Return-Path: <juergen.mueller@example.de>
From: Juergen Mueller <juergen.mueller@example.de>
To: {to}
Subject: {subject}
Date: Tue, 03 Mar 2026 09:00:00 +0100
Message-ID: <{message_id}@mail.example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Hallo, wie ist der Stand?
"""


def customer_mail(message_id, to="service@shop.test", subject="Lieferung", extra=""):
    text = extra + CUSTOMER_MAIL.format(to=to, subject=subject, message_id=message_id)
    return text.replace("\n", "\r\n").encode()


@tagged("post_install", "-at_install")
class TestCaseArchiveRight(MailCrmShopCase):
    def test_a_team_member_cannot_archive_a_case(self):
        case = self._create_case(user_id=self.agent.id)
        with self.assertRaisesRegex(UserError, "Only team inbox managers can archive"):
            case.with_user(self.agent).write({"state": "archived"})
        self.assertEqual(case.state, "new")
        case.with_user(self.agent).write({"state": "done"})  # closing stays theirs
        self.assertEqual(case.state, "done")
        with self.assertRaises(UserError):
            case.with_user(self.agent).state = "archived"
        self.assertEqual(case.state, "done")

    def test_a_manager_archives_a_case(self):
        case = self._create_case(user_id=self.agent.id)
        case.with_user(self.manager).write({"state": "archived"})
        self.assertEqual(case.state, "archived")
        self.assertTrue(case.done_date)
        other = self._create_case()
        with self.assertRaises(UserError):
            other.with_user(self.agent).action_archive_case()
        other.with_user(self.manager).action_archive_case()
        self.assertEqual(other.state, "archived")

    def test_the_statusbar_of_the_form_refuses_it_too(self):
        case = self._create_case(user_id=self.agent.id)
        form = Form(case.with_user(self.agent))
        form.state = "archived"
        with self.assertRaises(UserError):
            form.save()
        self.assertEqual(case.state, "new")


@tagged("post_install", "-at_install")
class TestFollowUpForTheQueue(MailCrmShopCase):
    def _run_cron(self, when):
        cron = self.env.ref("mail_crm_shop.ir_cron_follow_up_due")
        with freeze_time(when), self.enter_registry_test_mode():
            cron.method_direct_trigger()

    def _due_for(self, user):
        return self.env["crm.shop.case"].with_user(user).search([("follow_up_due", "=", True)])

    def test_an_assigned_due_case_is_shown_to_the_whole_queue_with_its_message(self):
        case = self._create_case(
            user_id=self.agent.id,
            state="wait_customer",
            follow_up_date=DUE,
            follow_up_note="Erstattung prüfen",
        )
        self._run_cron(DUE - timedelta(minutes=1))
        self.assertFalse(case.follow_up_due)
        self.assertFalse(self._due_for(self.other_agent))

        self._run_cron(DUE + timedelta(minutes=1))
        self.assertTrue(case.follow_up_due)
        self.assertEqual(case.state, "in_progress")
        self.assertEqual(case.activity_ids.user_id, self.agent, "the assignee gets the to-do")
        # every member of the queue finds it with the "Follow-up due" filter, and reads why
        self.assertEqual(self._due_for(self.other_agent), case)
        self.assertEqual(self._due_for(self.agent), case)
        seen_by_colleague = case.with_user(self.other_agent).message_ids
        self.assertTrue(seen_by_colleague.filtered(lambda m: "Erstattung prüfen" in m.body))

    def test_answering_the_case_handles_the_follow_up(self):
        case = self._create_case(user_id=self.agent.id, follow_up_date=DUE)
        self._run_cron(DUE)
        self.assertTrue(case.follow_up_due)
        case.with_user(self.agent).message_post(
            body="Die Erstattung ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertFalse(case.follow_up_due)
        self.assertFalse(self._due_for(self.other_agent))

    def test_a_new_follow_up_or_waiting_clears_the_flag(self):
        case = self._create_case(user_id=self.agent.id, follow_up_date=DUE)
        self._run_cron(DUE)
        case.with_user(self.agent).follow_up_date = DUE + timedelta(days=7)
        self.assertFalse(case.follow_up_due)

        self._run_cron(DUE + timedelta(days=7))
        self.assertTrue(case.follow_up_due)
        case.with_user(self.agent).write({"state": "wait_third"})
        self.assertFalse(case.follow_up_due)

    def test_the_flag_is_not_writable_by_team_members(self):
        case = self._create_case(user_id=self.agent.id)
        form = Form(case.with_user(self.agent))
        with self.assertRaises(AssertionError):  # readonly in the form
            form.follow_up_due = True


@tagged("post_install", "-at_install")
class TestMailboxPasswordAccess(MailCrmShopCase):
    def test_only_managers_read_the_mailbox_password(self):
        mailbox = self.env["crm.shop.mailbox"].create(
            {
                "name": "Kundenservice",
                "email": "service@shop.test",
                "host": "imap.shop.test",
                "login": "service",
                "password": "geheim",
                "queue_id": self.queue.id,
            }
        )
        as_agent = mailbox.with_user(self.agent)
        self.assertEqual(as_agent.read(["name"])[0]["name"], "Kundenservice")
        with self.assertRaises(AccessError):
            as_agent.read(["password"])
        with self.assertRaises(AccessError):
            as_agent.mapped("password")
        self.assertNotIn("password", as_agent.fields_get())
        with self.assertRaises(AccessError):
            self.env["crm.shop.mailbox"].with_user(self.agent).search([("password", "=", "geheim")])
        self.assertEqual(mailbox.with_user(self.manager).password, "geheim")
        self.assertEqual(
            mailbox.with_user(self.manager).read(["password"])[0]["password"], "geheim"
        )

    def test_the_mailbox_ca_file_reaches_the_imap_connection(self):
        mailbox = self.env["crm.shop.mailbox"].create(
            {
                "name": "Eigener Server",
                "email": "info@shop.test",
                "host": "mail.shop.test",
                "login": "info",
                "ca_file": "/etc/ssl/private-ca/shop-ca.pem",
                "queue_id": self.queue.id,
            }
        )
        self.assertEqual(
            mailbox._get_imap_adapter().settings.cafile, "/etc/ssl/private-ca/shop-ca.pem"
        )
        self.assertIn("ca_file", mailbox.with_user(self.manager).fields_get())
        self.assertNotIn("ca_file", mailbox.with_user(self.agent).fields_get())
        # the user's sync (run as that user) still reaches the server with the CA
        self.assertEqual(
            mailbox.with_user(self.agent)._get_imap_adapter().settings.cafile,
            "/etc/ssl/private-ca/shop-ca.pem",
        )
        mailbox.ca_file = False
        self.assertIsNone(mailbox._get_imap_adapter().settings.cafile, "system trust store")


@tagged("post_install", "-at_install")
class TestReplySignature(MailCrmShopCase):
    def test_the_replying_users_signature_is_in_the_mail_to_the_customer(self):
        customer = self._create_partner()
        case = self._create_case(partner_id=customer.id, user_id=self.agent.id)
        self.agent.signature = "<p>Anton Agent, Kundenservice Fahrradteile</p>"
        self.other_agent.signature = "<p>Olga Other, Buchhaltung</p>"
        self.queue.signature = "<p>Ihr Service-Team</p>"
        block = self._create_text_block(body="<p>Hallo {{customer_name}}</p>")

        action = case.with_user(self.agent).action_reply_with_text_block()
        wizard = Form(
            self.env[action["res_model"]].with_user(self.agent).with_context(**action["context"])
        )
        wizard.text_block_id = block
        composer_action = wizard.save().action_open_composer()
        composer = (
            self.env["mail.compose.message"].with_user(self.agent).browse(composer_action["res_id"])
        )
        composer.action_send_mail()

        reply = case.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(reply.author_id, self.agent.partner_id)
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", reply.id)])
        self.assertTrue(mail)
        self.assertIn(customer, mail.recipient_ids)
        self.assertIn("Anton Agent, Kundenservice Fahrradteile", mail.body_html)
        self.assertNotIn("Olga Other", mail.body_html)
        self.assertIn("Ihr Service-Team", mail.body_html)


@tagged("post_install", "-at_install")
class TestReplyAddressPerCase(MailIngestCommon):
    def _reply(self, case):
        return case.message_post(
            body="Ihre Sendung ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )

    def test_replies_carry_the_case_address_when_the_mailbox_uses_them(self):
        case = self._receive(customer_mail("q1")).case_id
        self.assertIn("<service@shop.test>", self._reply(case).reply_to)

        self.mailbox.reply_to_case_address = True
        reply = self._reply(case)
        expected = f"service+{case.number.lower()}@shop.test"
        self.assertIn(f"<{expected}>", reply.reply_to)
        outgoing = self.env["mail.mail"].sudo().search([("mail_message_id", "=", reply.id)])
        self.assertIn(expected, outgoing.reply_to)

    def test_an_answer_to_the_case_address_finds_its_case(self):
        case = self._receive(customer_mail("q2")).case_id
        address = f"service+{case.number.lower()}@shop.test"
        # the customer's program dropped the subject token and the references
        answer = self._receive(customer_mail("a2", to=address, subject="Frage"))
        self.assertEqual(answer.case_id, case)
        self.assertEqual(len(self._cases()), 1)

    def test_token_and_references_come_before_the_address(self):
        first = self._receive(customer_mail("q3")).case_id
        second = self._receive(customer_mail("q4", subject="Andere Frage")).case_id
        self.assertNotEqual(first, second)
        to_first = f"service+{first.number.lower()}@shop.test"
        answer = self._receive(
            customer_mail("a3", to=to_first, subject=f"AW: [#{second.number}] Andere Frage")
        )
        self.assertEqual(answer.case_id, second, "the subject token wins")

    def test_an_unknown_or_foreign_case_address_opens_a_new_case(self):
        case = self._receive(customer_mail("q5")).case_id
        unknown = self._receive(customer_mail("a5", to="service+c-99999@shop.test"))
        self.assertNotEqual(unknown.case_id, case)
        foreign = self._receive(
            customer_mail("a6", to=f"info+{case.number.lower()}@other.test, service@shop.test")
        )
        self.assertNotIn(foreign.case_id, case | unknown.case_id)

    def test_mail_with_an_empty_return_path_opens_an_automatic_case(self):
        raw = customer_mail("auto1").replace(
            b"Return-Path: <juergen.mueller@example.de>", b"Return-Path: <>"
        )
        case = self._receive(raw).case_id
        self.assertTrue(case.is_auto_reply)
        person = self._receive(customer_mail("person1", subject="Neue Frage")).case_id
        self.assertFalse(person.is_auto_reply)
