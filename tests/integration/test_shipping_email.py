"""EmailTransport against the shared real aiosmtpd server (plain, STARTTLS with login,
implicit TLS), see tests/integration/servers/smtp.py."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shipping_exchange.adapters.mail import (
    EmailSettings,
    EmailTransport,
    PartialDelivery,
)

from .servers.peer import scripted_peer
from .servers.smtp import SmtpTestServer

XML = b"<?xml version='1.0' encoding='UTF-8'?>\n<DeliveryOrders/>"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_starttls(smtp_tls_certificate):
    with SmtpTestServer(auth=("shop", "pw"), tls=smtp_tls_certificate) as server:
        yield server


@pytest.fixture
def smtp_ssl(smtp_tls_certificate):
    with SmtpTestServer(tls=smtp_tls_certificate, implicit_tls=True) as server:
        yield server


def _settings(server, **overrides) -> EmailSettings:
    values = {
        "host": "127.0.0.1",
        "port": server.port,
        "sender": "shop@example.com",
        "recipients": ("orders@carrier.example",),
        "security": "none",
        "timeout": 10,
    }
    return EmailSettings(**(values | overrides))


def test_plain_relay_sends_the_file_as_attachment(smtp_server):
    message_id = EmailTransport(_settings(smtp_server)).upload("WH-OUT-1.xml", XML)
    [received] = smtp_server.messages
    assert (received.mail_from, received.rcpt_tos) == (
        "shop@example.com",
        ("orders@carrier.example",),
    )
    message = message_from_bytes(received.raw, policy=policy.default)
    assert message["Message-ID"] == message_id
    assert "WH-OUT-1.xml" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "WH-OUT-1.xml"
    assert attachment.get_content_type() == "application/xml"
    assert attachment.get_content() == XML


def test_starttls_with_login(smtp_starttls, smtp_tls_certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_tls_certificate.cert))
    settings = _settings(smtp_starttls, security="starttls", user="shop", password="pw")
    EmailTransport(settings).upload("d.xml", XML)
    assert smtp_starttls.logins == ["shop"]
    assert len(smtp_starttls.messages) == 1


def test_wrong_login_is_permanent(smtp_starttls):
    settings = _settings(
        smtp_starttls, security="starttls", user="shop", password="no", verify_tls=False
    )
    with pytest.raises(PermanentError, match="login refused"):
        EmailTransport(settings).upload("d.xml", XML)
    assert smtp_starttls.messages == []


def test_untrusted_certificate_is_permanent(smtp_starttls):
    settings = _settings(smtp_starttls, security="starttls", user="shop", password="pw")
    with pytest.raises(PermanentError, match="certificate"):
        EmailTransport(settings).upload("d.xml", XML)
    assert smtp_starttls.messages == []


def test_starttls_required_but_not_offered_is_permanent(smtp_server):
    with pytest.raises(PermanentError, match="STARTTLS"):
        EmailTransport(_settings(smtp_server, security="starttls")).upload("d.xml", XML)
    assert smtp_server.messages == []


def test_implicit_tls(smtp_ssl):
    settings = _settings(smtp_ssl, security="ssl", verify_tls=False)
    EmailTransport(settings).upload("d.pdf", b"%PDF-")
    [received] = smtp_ssl.messages
    message = message_from_bytes(received.raw, policy=policy.default)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-"


def test_refused_recipient_is_permanent(smtp_server):
    smtp_server.set_behaviour("orders@carrier.example", "reject")
    with pytest.raises(PermanentError, match="550"):
        EmailTransport(_settings(smtp_server)).upload("d.xml", XML)
    assert smtp_server.messages == []


def test_deferred_recipient_is_transient_and_the_retry_succeeds(smtp_server):
    smtp_server.set_behaviour("orders@carrier.example", "defer")
    transport = EmailTransport(_settings(smtp_server))
    with pytest.raises(TransientError, match="450"):
        transport.upload("d.xml", XML)
    assert smtp_server.messages == []
    smtp_server.set_behaviour("orders@carrier.example", "accept")
    transport.upload("d.xml", XML)
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [("554 5.7.1 spam", PermanentError), ("451 4.3.0 busy", TransientError)],
)
def test_message_refused_at_data(smtp_server, reply, error):
    smtp_server.data_reply = reply
    with pytest.raises(error, match=reply[:3]):
        EmailTransport(_settings(smtp_server)).upload("d.xml", XML)
    assert smtp_server.messages == []


def test_sender_refused(smtp_server):
    smtp_server.mail_reply = "553 5.7.1 sender not allowed"
    with pytest.raises(PermanentError, match="sender refused"):
        EmailTransport(_settings(smtp_server)).upload("d.xml", XML)


def test_partly_refused_is_reported_not_resent(smtp_server):
    smtp_server.set_behaviour("bad", "reject")
    settings = _settings(smtp_server, recipients=("orders@carrier.example", "bad@carrier.example"))
    with pytest.raises(PartialDelivery, match=r"bad@carrier\.example") as caught:
        EmailTransport(settings).upload("d.xml", XML)
    assert list(caught.value.refused) == ["bad@carrier.example"]
    assert [m.rcpt_tos for m in smtp_server.messages] == [("orders@carrier.example",)]


def test_server_down_is_transient():
    settings = EmailSettings(
        "127.0.0.1", "shop@example.com", ("o@example.com",), _free_port(), "none", timeout=2
    )
    with pytest.raises(TransientError, match="ConnectionRefused"):
        EmailTransport(settings).upload("d.xml", XML)


def _smtp_hanging_up_before_quit(received: list[bytes]):
    """A scripted SMTP peer: takes one message, then closes the connection before QUIT."""

    def handle(conn):
        with conn.makefile("rb") as reader:
            conn.sendall(b"220 mx.test ESMTP\r\n")
            for reply in (b"250 mx.test", b"250 2.1.0 Ok", b"250 2.1.5 Ok", b"354 go ahead"):
                reader.readline()  # EHLO, MAIL, RCPT, DATA
                conn.sendall(reply + b"\r\n")
            data = b""
            while not data.endswith(b"\r\n.\r\n"):
                data += reader.readline()
            received.append(data)
            conn.sendall(b"250 2.0.0 Ok: queued\r\n")
            conn.shutdown(socket.SHUT_WR)
            reader.read()  # until the client closes

    return scripted_peer(handle)


def test_a_server_gone_before_quit_still_counts_as_sent():
    received: list[bytes] = []
    with _smtp_hanging_up_before_quit(received) as port:
        settings = EmailSettings(
            "127.0.0.1", "shop@example.com", ("o@example.com",), port, "none", timeout=5
        )
        message_id = EmailTransport(settings).upload("d.xml", XML)
    [data] = received
    assert message_id.encode() in data


def test_unsafe_attachment_name_is_refused(smtp_server):
    with pytest.raises(PermanentError, match="unsafe"):
        EmailTransport(_settings(smtp_server)).upload("../d.xml", XML)
    assert smtp_server.messages == []
