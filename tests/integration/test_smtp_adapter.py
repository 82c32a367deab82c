"""SMTP adapter against a real aiosmtpd server on 127.0.0.1: per-recipient results."""

import socket

import pytest

from shopaddons.mail_crm_shop.adapters.smtp import (
    RecipientResult,
    SmtpAdapter,
    SmtpSettings,
)
from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError

from .servers.peer import scripted_peer
from .servers.smtp import SmtpTestServer, _free_port

MESSAGE = (
    b"From: Shop <shop@haendler.example>\r\nTo: kunde@example.org\r\n"
    b"Subject: Ihre Bestellung\r\nMessage-ID: <m1@haendler.example>\r\n\r\n"
    b"Hallo,\r\n.Punkt am Zeilenanfang\r\nGr\xc3\xbc\xc3\x9fe\r\n"
)


def _adapter(server, **overrides) -> SmtpAdapter:
    values = {"host": server.host, "port": server.port, "security": "none", "timeout": 10}
    values.update(overrides)
    return SmtpAdapter(SmtpSettings(**values))


def test_all_accepted_are_sent_and_the_server_got_the_exact_bytes(smtp_server):
    result = _adapter(smtp_server).send(
        MESSAGE, "bounce@haendler.example", ["kunde@example.org", "zweit@example.org"]
    )
    assert result.all_sent
    assert [(r.recipient, r.state, r.code) for r in result.recipients] == [
        ("kunde@example.org", "sent", 250),
        ("zweit@example.org", "sent", 250),
    ]
    assert result.recipients[0].reply == "2.0.0 Ok: queued as Q1"
    (received,) = smtp_server.messages
    assert received.mail_from == "bounce@haendler.example"
    assert received.rcpt_tos == ("kunde@example.org", "zweit@example.org")
    assert received.raw == MESSAGE  # dot-stuffing undone by the server, 8-bit intact


def test_every_status_lands_on_its_recipient(smtp_server):
    smtp_server.set_behaviour("unknown", "reject")  # by local part
    smtp_server.set_behaviour("voll@example.org", "defer")  # by address
    smtp_server.set_behaviour("quota", "552 5.2.2 mailbox full")
    result = _adapter(smtp_server).send(
        MESSAGE,
        "bounce@haendler.example",
        ["ok@example.org", "unknown@example.org", "voll@example.org", "quota@example.net"],
    )
    assert result.recipients == (
        RecipientResult("ok@example.org", "sent", 250, "2.0.0 Ok: queued as Q1"),
        RecipientResult("unknown@example.org", "bounced", 550, "5.1.1 user unknown"),
        RecipientResult("voll@example.org", "deferred", 450, "4.2.0 try later"),
        RecipientResult("quota@example.net", "bounced", 552, "5.2.2 mailbox full"),
    )
    assert [r.hard for r in result.recipients] == [False, True, False, True]
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ok@example.org",)]


def test_all_refused_sends_no_data_and_reports_everyone(smtp_server):
    smtp_server.set_behaviour("a", "reject")
    smtp_server.set_behaviour("b", "defer")
    result = _adapter(smtp_server).send(
        MESSAGE, "s@haendler.example", ["a@x.example", "b@x.example"]
    )
    assert [(r.state, r.code) for r in result.recipients] == [("bounced", 550), ("deferred", 450)]
    assert result.by_state("sent") == ()
    assert smtp_server.messages == []


def test_a_single_refused_recipient_is_a_result_not_an_exception(smtp_server):
    smtp_server.set_behaviour("nobody", "reject")
    (only,) = _adapter(smtp_server).send(MESSAGE, "s@h.example", ["nobody@x.example"]).recipients
    assert (only.state, only.reply) == ("bounced", "5.1.1 user unknown")


def test_duplicates_get_one_rcpt_and_one_result(smtp_server):
    result = _adapter(smtp_server).send(
        MESSAGE, "s@h.example", ["Kunde@Example.org", "kunde@example.org", " ", "x@example.org"]
    )
    assert [r.recipient for r in result.recipients] == ["Kunde@Example.org", "x@example.org"]
    assert smtp_server.messages[0].rcpt_tos == ("Kunde@Example.org", "x@example.org")


@pytest.mark.parametrize(
    ("reply", "state"),
    [("554 5.7.1 rejected as spam", "bounced"), ("451 4.3.0 disk full", "deferred")],
)
def test_a_refusal_at_data_applies_to_the_accepted_recipients(smtp_server, reply, state):
    smtp_server.set_behaviour("gone", "reject")
    smtp_server.data_reply = reply
    result = _adapter(smtp_server).send(MESSAGE, "s@h.example", ["a@x.example", "gone@x.example"])
    assert [(r.state, r.code) for r in result.recipients] == [
        (state, int(reply[:3])),
        ("bounced", 550),
    ]
    assert result.recipients[0].reply == reply[4:]
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [("553 5.7.1 sender not allowed", PermanentError), ("451 4.7.1 slow down", TransientError)],
)
def test_a_refused_sender_concerns_the_whole_message(smtp_server, reply, error):
    smtp_server.mail_reply = reply
    with pytest.raises(error, match=reply[:3]):
        _adapter(smtp_server).send(MESSAGE, "s@h.example", ["a@x.example"])


def test_bare_newlines_are_sent_as_crlf(smtp_server):
    _adapter(smtp_server).send(b"Subject: x\n\nline1\nline2\n", "s@h.example", ["a@x.example"])
    assert smtp_server.messages[0].raw == b"Subject: x\r\n\r\nline1\r\nline2\r\n"


def test_server_down_is_transient():
    adapter = SmtpAdapter(SmtpSettings("127.0.0.1", _free_port(), "none", timeout=5))
    with pytest.raises(TransientError, match=r"127\.0\.0\.1"):
        adapter.send(MESSAGE, "s@h.example", ["a@x.example"])


def test_a_silent_server_times_out_as_transient():
    with socket.socket() as listener:  # accepts connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        adapter = SmtpAdapter(
            SmtpSettings("127.0.0.1", listener.getsockname()[1], "none", timeout=0.5)
        )
        with pytest.raises(TransientError):
            adapter.send(MESSAGE, "s@h.example", ["a@x.example"])


def _raw_peer(greeting: bytes | None):
    """A TCP peer on 127.0.0.1 that sends ``greeting`` (None: ends its side at once, no
    TLS handshake) and then reads until the client closes."""

    def handle(conn):
        if greeting is None:
            conn.shutdown(socket.SHUT_WR)
        else:
            conn.sendall(greeting)
        while conn.recv(4096):
            pass

    return scripted_peer(handle)


def test_a_refused_greeting_is_an_unexpected_reply():
    with _raw_peer(b"554 5.3.2 not accepting mail\r\n") as port:
        adapter = SmtpAdapter(SmtpSettings("127.0.0.1", port, "none", timeout=5))
        with pytest.raises(PermanentError, match=r"unexpected reply: 554 5\.3\.2 not accepting"):
            adapter.send(MESSAGE, "s@h.example", ["a@x.example"])


def test_a_tls_handshake_cut_short_is_transient():
    with _raw_peer(None) as port:
        adapter = SmtpAdapter(SmtpSettings("127.0.0.1", port, "ssl", timeout=5))
        with pytest.raises(TransientError, match="TLS connection failed or lost"):
            adapter.send(MESSAGE, "s@h.example", ["a@x.example"])


def test_login_where_the_server_offers_no_auth_is_permanent(smtp_server):
    with pytest.raises(PermanentError, match="AUTH extension not supported"):
        _adapter(smtp_server, login="shop", password="geheim").send(
            MESSAGE, "s@h.example", ["a@x.example"]
        )
    assert smtp_server.messages == []


def test_bad_input_is_permanent(smtp_server):
    adapter = _adapter(smtp_server)
    with pytest.raises(PermanentError, match="no recipients"):
        adapter.send(MESSAGE, "s@h.example", [])
    with pytest.raises(PermanentError, match="bytes"):
        adapter.send(MESSAGE.decode(), "s@h.example", ["a@x.example"])
    with pytest.raises(PermanentError, match="security"):
        SmtpAdapter(SmtpSettings("127.0.0.1", 25, "tls"))
    with pytest.raises(PermanentError, match="host and a port"):
        SmtpAdapter(SmtpSettings("", 25, "none"))
    with pytest.raises(PermanentError, match="timeout"):
        SmtpAdapter(SmtpSettings("127.0.0.1", 25, "none", timeout=0))
    assert smtp_server.messages == []


def test_starttls_required_but_not_offered_is_permanent(smtp_server):
    with pytest.raises(PermanentError, match="STARTTLS"):
        _adapter(smtp_server, security="starttls").send(MESSAGE, "s@h.example", ["a@x.example"])
    assert smtp_server.messages == []


def test_login():
    with SmtpTestServer(auth=("shop", "geheim")) as server:
        result = _adapter(server, login="shop", password="geheim").send(
            MESSAGE, "s@h.example", ["a@x.example"]
        )
        assert result.all_sent
        assert server.logins == ["shop"]
        with pytest.raises(PermanentError, match="login refused: 535"):
            _adapter(server, login="shop", password="falsch").send(
                MESSAGE, "s@h.example", ["a@x.example"]
            )
        assert len(server.messages) == 1


def test_starttls_with_a_verified_certificate(smtp_tls_certificate):
    with SmtpTestServer(tls=smtp_tls_certificate) as server:
        adapter = _adapter(server, security="starttls", cafile=str(smtp_tls_certificate.cert))
        assert adapter.send(MESSAGE, "s@h.example", ["a@x.example"]).all_sent
        with pytest.raises(PermanentError, match="certificate"):
            _adapter(server, security="starttls").send(MESSAGE, "s@h.example", ["a@x.example"])
        assert len(server.messages) == 1


def test_implicit_tls(smtp_tls_certificate):
    with SmtpTestServer(tls=smtp_tls_certificate, implicit_tls=True) as server:
        adapter = _adapter(server, security="ssl", cafile=str(smtp_tls_certificate.cert))
        assert adapter.send(MESSAGE, "s@h.example", ["a@x.example"]).all_sent
        assert server.messages[0].raw == MESSAGE


def test_a_server_closing_mid_transaction_is_transient(smtp_server):
    smtp_server.data_reply = "421 4.3.2 shutting down"
    with pytest.raises(TransientError, match="server closing"):
        _adapter(smtp_server).send(MESSAGE, "s@h.example", ["a@x.example"])
    smtp_server.data_reply = None
    smtp_server.set_behaviour("b", "421 4.3.2 shutting down")
    with pytest.raises(TransientError, match="server closing"):
        _adapter(smtp_server).send(MESSAGE, "s@h.example", ["a@x.example", "b@x.example"])
    assert smtp_server.messages == []
    # and a later attempt, the server being back, delivers
    smtp_server.set_behaviour("b", "accept")
    assert _adapter(smtp_server).send(MESSAGE, "s@h.example", ["a@x.example"]).all_sent
