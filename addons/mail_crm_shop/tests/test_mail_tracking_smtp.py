import socket
from unittest.mock import patch

from aiosmtpd.controller import Controller

from odoo.tests import tagged

from .common import MailCrmShopCase


class _Relay:
    """A real SMTP server: refuses local parts starting with ``unknown`` (550)."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("unknown"):
            return "550 5.1.1 user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(tuple(envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestMailTrackingSmtp(MailCrmShopCase):
    """Odoo sends through a real aiosmtpd relay on 127.0.0.1 (test mode sending unlocked)."""

    def setUp(self):
        super().setUp()
        self.relay = _Relay()
        self.controller = Controller(self.relay, hostname="127.0.0.1", port=_free_port())
        self.controller.start()
        self.addCleanup(self.controller.stop)
        IrMailServer = type(self.env["ir.mail_server"])
        patcher = patch.object(IrMailServer, "_disable_send", lambda _: False)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.mail_server = self.env["ir.mail_server"].create(
            {
                "name": "Test relay",
                "smtp_host": "127.0.0.1",
                "smtp_port": self.controller.port,
                "smtp_encryption": "none",
            }
        )

    def _send(self, email_to):
        mail = self.env["mail.mail"].create(
            {
                "subject": "Ihre Rechnung",
                "body_html": "<p>Anbei</p>",
                "email_from": "shop@haendler-beispiel.de",
                "email_to": email_to,
                "mail_server_id": self.mail_server.id,
            }
        )
        mail.send()
        tracking = self.env["crm.shop.mail.tracking"].search([("mail_mail_id", "=", mail.id)])
        return mail, tracking

    def test_relay_accepts_one_recipient_and_refuses_the_other(self):
        mail, tracking = self._send("kunde@example.org, unknown@example.org")
        self.assertEqual(self.relay.received, [("kunde@example.org",)])
        self.assertEqual(mail.state, "sent")
        self.assertRecordValues(
            tracking.line_ids.sorted("email"),
            [
                {"email": "kunde@example.org", "status": "delivered", "bounce_type": False},
                {"email": "unknown@example.org", "status": "bounced", "bounce_type": "hard"},
            ],
        )
        self.assertEqual(tracking.line_ids.sorted("email")[1].dsn_status, "5.1.1")

    def test_relay_refusing_every_recipient_then_accepting_a_resend(self):
        with self.assertLogs("odoo.addons.mail.models.mail_mail", level="ERROR"):
            mail, tracking = self._send("unknown@example.org")
        self.assertEqual(mail.state, "exception")
        self.assertRecordValues(tracking.line_ids, [{"status": "bounced", "dsn_status": "5.1.1"}])
        mail.email_to = "kunde@example.org"
        mail.mark_outgoing()
        mail.send()
        self.assertEqual(mail.state, "sent")
        self.assertEqual(self.relay.received, [("kunde@example.org",)])
        line = tracking.line_ids.filtered(lambda line: line.email == "kunde@example.org")
        self.assertEqual(line.status, "delivered")
