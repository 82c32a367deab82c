from odoo.tests import tagged

from .test_mail_ingest import MailIngestCommon, read_mail

SENDER = "juergen.mueller@example.de"


@tagged("post_install", "-at_install")
class TestFirstReplyContact(MailIngestCommon):
    """The first reply to an unknown sender links (or creates) the sender's contact."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "juergen@other.example"  # the sender is unknown

    def _unknown_sender_case(self):
        case = self._receive(read_mail("customer_question.eml")).case_id
        self.assertTrue(case)
        self.assertFalse(case.partner_id)
        return case

    def _reply(self, case, body="Ihre Sendung ist unterwegs.", **kwargs):
        return (
            case.with_user(self.agent)
            .sudo(False)
            .message_post(
                body=body, message_type="comment", subtype_xmlid="mail.mt_comment", **kwargs
            )
        )

    def _contacts(self):
        return self.env["res.partner"].search([("email_normalized", "=", SENDER)])

    def test_first_reply_creates_the_contact_once_and_is_addressed_to_it(self):
        case = self._unknown_sender_case()
        case.message_post(body="intern", subtype_xmlid="mail.mt_note")
        self.assertFalse(case.partner_id, "a note is no reply")
        self.assertFalse(self._contacts())
        reply = self._reply(case)
        contact = self._contacts()
        self.assertEqual(len(contact), 1)
        self.assertEqual(contact.name, "Jürgen Müller")
        self.assertEqual(case.partner_id, contact)
        self.assertIn(contact, reply.partner_ids)
        outgoing = self.env["mail.mail"].search([("mail_message_id", "=", reply.id)])
        self.assertIn(contact, outgoing.recipient_ids)
        self.assertTrue(self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)]))
        second = self._reply(case, body="Nachtrag", partner_ids=contact.ids)
        self.assertEqual(len(self._contacts()), 1, "no second contact")
        self.assertEqual(second.partner_ids, contact)

    def test_existing_partner_with_that_address_is_linked(self):
        case = self._unknown_sender_case()
        known = self._create_partner(
            name="J. Müller (Stammkunde)", email="JUERGEN.Mueller@example.de"
        )
        other = self._create_partner(name="Kollegin", email="kollegin@example.de")
        reply = self._reply(case, partner_ids=other.ids)
        self.assertEqual(case.partner_id, known)
        self.assertEqual(self._contacts(), known, "no duplicate")
        self.assertEqual(reply.partner_ids, other | known, "chosen recipients are kept")

    def test_contact_created_by_the_composer_is_linked_not_duplicated(self):
        case = self._unknown_sender_case()
        # what the chatter does for a user allowed to create contacts (partner_emails)
        found = case._partner_find_from_emails_single([case.email_from])
        self.assertEqual(len(found), 1)
        reply = self._reply(case, partner_ids=found.ids)
        self.assertEqual(case.partner_id, found)
        self.assertEqual(self._contacts(), found)
        self.assertEqual(reply.partner_ids, found)

    def test_system_post_and_case_without_sender_create_nothing(self):
        case = self._unknown_sender_case()
        case.message_post(
            body="Eingang bestätigt", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertFalse(case.partner_id, "automatic mails never create contacts")
        no_sender = self._create_case(name="Anruf", email_from=False)
        reply = self._reply(no_sender, partner_ids=self.customer.ids)
        self.assertFalse(no_sender.partner_id)
        self.assertEqual(reply.partner_ids, self.customer)
        own = self._create_case(
            name="Weiterleitung", email_from="Kundenservice <service@shop.test>"
        )
        self._reply(own, partner_ids=self.customer.ids)
        self.assertFalse(own.partner_id, "our own address is not a customer")
        self.assertFalse(self._contacts())
