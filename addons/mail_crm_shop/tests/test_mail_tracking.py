import base64
import smtplib
from pathlib import Path
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.mail.tests.common import MockEmail

from .test_mail_ingest import MailIngestCommon, read_mail

DSN_DATA = Path(__file__).parents[3] / "tests" / "data" / "dsn"
POSTFIX_MESSAGE_ID = "<1772442845.381726.102938@odoo.haendler-beispiel.de>"
MAIL_LOGGER = "odoo.addons.mail.models.mail_mail"
EXIM_MESSAGE_ID = "<1772610082.551122.77120@odoo.haendler-beispiel.de>"


class MailTrackingCommon(MailIngestCommon, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer = cls._create_partner(
            name="Max Mustermann", email="max.mustermann@kunde-beispiel.de"
        )
        cls.order = cls._create_sale_order(cls.buyer)
        cls.template = cls._create_template()
        cls.bounce_mailbox = cls.env["crm.shop.mailbox"].create(
            {
                "name": "Bounces",
                "email": "bounce@haendler-beispiel.de",
                "host": "imap.shop.test",
                "login": "bounce",
                "password": "secret",
                "queue_id": cls.queue.id,
                "user_id": cls.manager.id,
                "is_bounce_mailbox": True,
            }
        )

    @classmethod
    def _create_template(cls, **overrides):
        vals = {
            "name": "Order confirmation",
            "model_id": cls.env["ir.model"]._get_id("sale.order"),
            "subject": "Ihre Bestellung {{ object.name }}",
            "body_html": '<p>Danke! <a href="https://shop.example/track?o=1">Sendung</a></p>',
            "email_from": "shop@haendler-beispiel.de",
            "partner_to": "{{ object.partner_id.id }}",
            "auto_delete": True,
            **overrides,
        }
        return cls.env["mail.template"].create(vals)

    def _send_mail(self, record=None, **overrides):
        """Create and send a mail.mail about ``record`` (the order by default)."""
        record = record or self.order
        vals = {
            "model": record._name,
            "res_id": record.id,
            "subject": "Ihre Bestellung",
            "body_html": "<p>Danke</p>",
            "email_from": "shop@haendler-beispiel.de",
            "recipient_ids": [(4, self.buyer.id)],
            **overrides,
        }
        mail = self.env["mail.mail"].create(vals)
        with self.mock_mail_gateway():
            mail.send()
        return mail

    def _tracking(self, record=None):
        record = record or self.order
        return self.env["crm.shop.mail.tracking"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)], order="id desc", limit=1
        )

    def _status(self, record):
        """The mail status shown on ``record`` (a new request: not cached)."""
        record.invalidate_recordset(["crm_shop_mail_status"])
        return record.crm_shop_mail_status

    def _bounce(self, name, mailbox=None):
        """Store the DSN file ``name`` as fetched by ``mailbox`` and process it."""
        raw = (DSN_DATA / name).read_bytes()
        return self._store_and_process(mailbox or self.bounce_mailbox, raw)

    def _store_and_process(self, mailbox, raw):
        Inbound = self.env["crm.shop.inbound.mail"]
        inbound = Inbound.create(
            {
                "mailbox_id": mailbox.id,
                "folder": "INBOX",
                "uidvalidity": "1",
                "uid": Inbound.search_count([]) + 1,
                "dedupe_key": f"key-{Inbound.search_count([]) + 1}",
                "raw": base64.b64encode(raw),
            }
        )
        self._process()
        return inbound


@tagged("post_install", "-at_install")
class TestMailTrackingSend(MailTrackingCommon):
    def test_sent_mail_is_tracked_per_recipient_as_delivered(self):
        mail = self._send_mail(email_to="buchhaltung@kunde-beispiel.de")
        tracking = self._tracking()
        self.assertEqual(tracking.mail_mail_id, mail.id)
        self.assertEqual(tracking.message_id, mail.message_id)
        self.assertEqual(
            sorted(tracking.line_ids.mapped("email")),
            ["buchhaltung@kunde-beispiel.de", "max.mustermann@kunde-beispiel.de"],
        )
        self.assertEqual(set(tracking.line_ids.mapped("status")), {"delivered"})
        self.assertEqual(tracking.line_ids.partner_id, self.buyer)
        self.assertEqual(self._status(self.order), "delivered")

    def test_template_mail_records_its_template(self):
        with self.mock_mail_gateway():
            self.template.send_mail(self.order.id, force_send=True)
        tracking = self._tracking()
        self.assertEqual(tracking.template_id, self.template)
        self.assertEqual(tracking.line_ids.email, "max.mustermann@kunde-beispiel.de")
        self.assertEqual(tracking.line_ids.status, "delivered")

    def test_mail_posted_from_a_template_records_it(self):
        """The order confirmation path: message_post_with_source -> composer."""
        with self.mock_mail_gateway():
            self.order.message_post_with_source(
                self.template, subtype_xmlid="mail.mt_comment", partner_ids=self.buyer.ids
            )
        tracking = self._tracking()
        self.assertEqual(tracking.template_id, self.template)
        self.assertEqual(tracking.line_ids.partner_id, self.buyer)
        self.assertEqual(tracking.line_ids.status, "delivered")

    def test_invoice_sent_through_the_send_wizard_records_its_template(self):
        invoice = self._create_invoice(self.buyer)
        template = self._create_template(
            name="Invoice", model_id=self.env["ir.model"]._get_id("account.move")
        )
        with self.mock_mail_gateway():
            self.env["account.move.send"]._send_mail(
                invoice,
                template,
                body="<p>Ihre Rechnung</p>",
                subject="Rechnung",
                partner_ids=self.buyer.ids,
            )
            self.env["mail.mail"].search([("state", "=", "outgoing")]).send()
        tracking = self._tracking(invoice)
        self.assertEqual(tracking.template_id, template)
        self.assertEqual(self._status(invoice), "delivered")

    def test_refused_recipient_is_bounced_then_a_resend_is_delivered(self):
        refused = smtplib.SMTPRecipientsRefused(
            {"max.mustermann@kunde-beispiel.de": (550, b"5.1.1 User unknown")}
        )
        mail = self.env["mail.mail"].create(
            {
                "model": "sale.order",
                "res_id": self.order.id,
                "subject": "Ihre Bestellung",
                "body_html": "<p>Danke</p>",
                "email_from": "shop@haendler-beispiel.de",
                "recipient_ids": [(4, self.buyer.id)],
            }
        )
        with (
            self.mock_mail_gateway(),
            patch.object(self.testing_smtp_session, "send_message", side_effect=refused),
            self.assertLogs(MAIL_LOGGER, level="ERROR"),
        ):
            mail.send()
        self.assertEqual(mail.state, "exception")
        line = self._tracking().line_ids
        self.assertRecordValues(
            line,
            [{"status": "bounced", "bounce_type": "hard", "dsn_status": "5.1.1"}],
        )
        self.assertIn("User unknown", line.bounce_reason)
        self.assertEqual(self._status(self.order), "bounced")
        # the address was corrected: retrying the mail updates the same line
        mail.mark_outgoing()
        with self.mock_mail_gateway():
            mail.send()
        self.assertEqual(mail.state, "sent")
        self.assertEqual(self._tracking().line_ids, line)
        self.assertEqual(line.status, "delivered")
        self.assertFalse(line.bounce_reason)

    def test_temporary_refusal_is_deferred(self):
        refused = smtplib.SMTPRecipientsRefused(
            {"max.mustermann@kunde-beispiel.de": (451, b"4.7.1 Greylisted")}
        )
        mail = self.env["mail.mail"].create(
            {"subject": "Hallo", "body_html": "<p>x</p>", "recipient_ids": [(4, self.buyer.id)]}
        )
        with (
            self.mock_mail_gateway(),
            patch.object(self.testing_smtp_session, "send_message", side_effect=refused),
            self.assertLogs(MAIL_LOGGER, level="ERROR"),
        ):
            mail.send()
        tracking = self.env["crm.shop.mail.tracking"].search([("mail_mail_id", "=", mail.id)])
        self.assertRecordValues(
            tracking.line_ids, [{"status": "deferred", "dsn_status": "4.7.1", "bounce_type": False}]
        )

    def test_partial_refusal_inside_one_transaction_is_captured(self):
        def send_message(message, smtp_from, smtp_to_list):
            return {"falsch@kunde-beispiel.de": (550, b"5.1.1 no such user")}

        mail = self.env["mail.mail"].create(
            {
                "model": "sale.order",
                "res_id": self.order.id,
                "subject": "Rechnung",
                "body_html": "<p>x</p>",
                "email_to": "richtig@kunde-beispiel.de, falsch@kunde-beispiel.de",
            }
        )
        with (
            self.mock_mail_gateway(),
            patch.object(self.testing_smtp_session, "send_message", side_effect=send_message),
        ):
            mail.send()
        lines = self._tracking().line_ids.sorted("email")
        self.assertRecordValues(
            lines,
            [
                {"email": "falsch@kunde-beispiel.de", "status": "bounced", "bounce_type": "hard"},
                {"email": "richtig@kunde-beispiel.de", "status": "delivered", "bounce_type": False},
            ],
        )

    def test_invalid_address_is_not_sent(self):
        mail = self._send_mail(recipient_ids=[], email_to="kein-at-zeichen")
        line = self.env["crm.shop.mail.tracking"].search([("mail_mail_id", "=", mail.id)]).line_ids
        self.assertEqual(line.status, "error")
        self.assertTrue(line.bounce_reason)

    def test_open_pixel_and_tracked_links_only_when_the_template_enables_them(self):
        with self.mock_mail_gateway():
            self.template.send_mail(self.order.id, force_send=True)
        body = self._mails[-1]["body"]
        self.assertNotIn("/crm_shop/track/", body)
        self.assertIn('href="https://shop.example/track?o=1"', body)

        self.template.crm_shop_track_opens = True
        with self.mock_mail_gateway():
            self.template.send_mail(self.order.id, force_send=True)
        body = self._mails[-1]["body"]
        tracking = self._tracking()
        token = self.env["crm.shop.mail.tracking"]._open_token(tracking.mail_mail_id)
        self.assertIn(f"/crm_shop/track/open/{token}.png", body)
        link = self.env["link.tracker"].search([("url", "=", "https://shop.example/track?o=1")])
        self.assertEqual(len(link), 1, "the link goes through Odoo's link tracker")
        link_token = self.env["crm.shop.mail.tracking"]._link_token(
            tracking.mail_mail_id, self.buyer.id
        )
        self.assertIn(f'href="{link.short_url}/c/{link_token}"', body)
        self.assertNotIn('href="https://shop.example/track?o=1"', body)

    def _send_tracked_mail(self, partners):
        return self._send_mail(
            recipient_ids=[(6, 0, partners.ids)],
            crm_shop_template_id=self.template.id,
            body_html='<p>Danke! <a href="https://shop.example/track?o=1">Sendung</a></p>',
        )

    def test_each_recipient_gets_links_naming_them(self):
        self.template.crm_shop_track_opens = True
        other = self._create_partner(name="Eva Einkauf", email="eva@kunde-beispiel.de")
        self._send_tracked_mail(self.buyer | other)
        tracking = self._tracking()
        self.assertEqual(tracking.line_ids.partner_id, self.buyer | other)
        Tracking = self.env["crm.shop.mail.tracking"]
        link = self.env["link.tracker"].search([("url", "=", "https://shop.example/track?o=1")])
        for partner in (self.buyer, other):
            body = next(m["body"] for m in self._mails if partner.email in m["email_to"][0])
            token = Tracking._link_token(tracking.mail_mail_id, partner.id)
            self.assertIn(f"{link.short_url}/c/{token}", body)
            line = Tracking._line_from_link_token(token)
            self.assertEqual(line.partner_id, partner)
        token = Tracking._link_token(tracking.mail_mail_id, self.buyer.id)
        forged = token[:-1] + ("1" if token[-1] == "0" else "0")  # one character changed
        self.assertFalse(Tracking._line_from_link_token(forged))

    def test_click_through_the_link_tracker_marks_only_its_recipient(self):
        self.template.crm_shop_track_opens = True
        other = self._create_partner(name="Eva Einkauf", email="eva@kunde-beispiel.de")
        self._send_tracked_mail(self.buyer | other)
        tracking = self._tracking()
        link = self.env["link.tracker"].search([("url", "=", "https://shop.example/track?o=1")])
        token = tracking._link_token(tracking.mail_mail_id, other.id)
        line = tracking._line_from_link_token(token)
        click = self.env["link.tracker.click"].add_click(
            link.code, ip="192.0.2.7", crm_shop_tracking_line_id=line.id
        )
        self.assertEqual(click.crm_shop_tracking_line_id.partner_id, other)
        by_partner = {line.partner_id: line for line in tracking.line_ids}
        self.assertRecordValues(by_partner[other], [{"status": "clicked", "clicked_rate": 100.0}])
        self.assertTrue(by_partner[other].clicked_date)
        self.assertEqual(by_partner[self.buyer].status, "delivered")
        self.assertFalse(by_partner[self.buyer].clicked_date)
        self.assertEqual(link.count, 1)
        self.assertEqual(by_partner[other].link_click_ids, click)

    def test_agent_reads_tracking_but_cannot_change_it(self):
        self._send_mail()
        line = self._tracking().line_ids.with_user(self.agent)
        self.assertEqual(line.status, "delivered")
        with self.assertRaises(AccessError):
            line.write({"status": "bounced"})
        seller = new_test_user(
            self.env, "seller", groups="sales_team.group_sale_salesman_all_leads"
        )
        self.assertEqual(self._status(self.order.with_user(seller)), "delivered")

    def test_invoice_shows_the_status_of_its_latest_mail(self):
        invoice = self._create_invoice(self.buyer)
        self.assertFalse(self._status(invoice))
        self._send_mail(record=invoice)
        self.assertEqual(self._status(invoice), "delivered")


@tagged("post_install", "-at_install")
class TestMailTrackingBounce(MailTrackingCommon):
    def test_hard_bounce_marks_line_partner_and_asks_for_a_fix(self):
        self._send_mail(message_id=POSTFIX_MESSAGE_ID)
        inbound = self._bounce("postfix_user_unknown.eml")
        self.assertRecordValues(inbound, [{"state": "done", "case_id": False}])
        line = self._tracking().line_ids
        self.assertRecordValues(
            line, [{"status": "bounced", "bounce_type": "hard", "dsn_status": "5.1.1"}]
        )
        self.assertIn("User unknown in virtual mailbox table", line.bounce_reason)
        self.assertTrue(self.buyer.crm_shop_email_bouncing)
        self.assertEqual(self.buyer.message_bounce, 1)
        activity = self.order.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "Mail bounced: fix the address, resend")
        self.assertEqual(activity.user_id, self.order.user_id)
        self.assertEqual(self._status(self.order), "bounced")
        # the address is corrected: the flag goes, the next mail is delivered again
        self.buyer.email = "max@kunde-beispiel.de"
        self.assertFalse(self.buyer.crm_shop_email_bouncing)
        self._send_mail()
        self.assertEqual(self._status(self.order), "delivered")

    def test_soft_bounce_does_not_flag_the_partner(self):
        hard = self._create_partner(name="Alter Laden", email="info@alter-laden-beispiel.de")
        soft = self._create_partner(name="K. Schmidt", email="k.schmidt@kunde-beispiel.de")
        self._send_mail(message_id=EXIM_MESSAGE_ID, recipient_ids=[(6, 0, (hard | soft).ids)])
        self._bounce("exim_failed.eml")
        lines = self._tracking().line_ids
        by_partner = {line.partner_id: line for line in lines}
        self.assertRecordValues(
            by_partner[soft], [{"status": "bounced", "bounce_type": "soft", "dsn_status": "5.2.2"}]
        )
        self.assertEqual(by_partner[hard].bounce_type, "hard")
        self.assertFalse(soft.crm_shop_email_bouncing)
        self.assertEqual(soft.message_bounce, 0)
        self.assertTrue(hard.crm_shop_email_bouncing)
        self.assertEqual(len(self.order.activity_ids), 1)

    def test_delay_notice_defers_but_never_undoes_a_bounce(self):
        self._send_mail(
            message_id="<1772528564.118273.55421@odoo.haendler-beispiel.de>",
            recipient_ids=[],
            email_to="bestellung@langsam-beispiel.de",
        )
        self._bounce("postfix_delayed.eml")
        line = self._tracking().line_ids
        self.assertRecordValues(line, [{"status": "deferred", "dsn_status": "4.4.1"}])
        self.assertFalse(self.order.activity_ids)

    def test_unknown_bounce_and_plain_mail_become_cases(self):
        inbound = self._bounce("gmail_failure.eml")  # no tracked mail matches
        self.assertEqual(inbound.state, "done")
        self.assertTrue(inbound.case_id)
        plain = self._store_and_process(self.bounce_mailbox, read_mail("customer_question.eml"))
        self.assertEqual(plain.state, "done")
        self.assertTrue(plain.case_id)

    def test_normal_mailbox_keeps_making_cases_of_bounces(self):
        self._send_mail(message_id=POSTFIX_MESSAGE_ID)
        inbound = self._bounce("postfix_user_unknown.eml", mailbox=self.mailbox)
        self.assertTrue(inbound.case_id)
        self.assertEqual(self._tracking().line_ids.status, "delivered")
        self.assertFalse(self.buyer.crm_shop_email_bouncing)
