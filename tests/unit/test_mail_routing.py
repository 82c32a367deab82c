import contextlib
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.mail_crm_shop.services.mail_routing import (
    SentCopy,
    UnreadableMail,
    build_sent_copy,
    decide_followup,
    dedupe_key,
    read_headers,
    split_message_ids,
)

NOW = datetime(2026, 3, 2, 12, 0)

PLAIN = (
    b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.DE>\r\n"
    b"To: service@shop.test\r\n"
    b"Subject: =?utf-8?q?Re=3A_Bestellung_=5B=23C-00042=5D_gr=C3=BC=C3=9Fe?=\r\n"
    b"Message-ID: <abc@mail.example.de>\r\n"
    b"In-Reply-To: <parent@shop.test>\r\n"
    b"References: <root@shop.test>\r\n <parent@shop.test>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n"
    b"\r\n"
    b"Hallo\r\n"
)


def test_read_headers_decodes_subject_sender_and_references():
    headers = read_headers(PLAIN)
    assert headers.subject == "Re: Bestellung [#C-00042] grüße"
    assert headers.case_token == "C-00042"
    assert headers.from_address == "juergen@example.de"
    assert headers.from_name == "Jürgen Müller"
    assert headers.message_id == "<abc@mail.example.de>"
    assert headers.reference_ids == ("<parent@shop.test>", "<root@shop.test>")
    assert not headers.is_auto_reply


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (b"Auto-Submitted: auto-replied\r\n", "auto-submitted"),
        (b"X-Autoreply: yes\r\n", "x-autoreply"),
        (b"Precedence: bulk\r\n", "precedence"),
        (b'Content-Type: multipart/report; report-type="delivery-status"\r\n', "bounce"),
        (b"X-Loop: service@shop.test\r\n", "loop"),
    ],
)
def test_automatic_mails_are_flagged(extra, reason):
    headers = read_headers(extra + PLAIN, own_addresses=("service@shop.test",))
    assert headers.is_auto_reply
    assert headers.auto_reason == reason


def test_auto_submitted_no_is_a_person():
    assert not read_headers(b"Auto-Submitted: no\r\n" + PLAIN).is_auto_reply


def test_mailer_daemon_is_a_bounce_and_own_address_a_loop():
    bounce = PLAIN.replace(b"Juergen@Example.DE", b"MAILER-DAEMON@mx.example.de")
    assert read_headers(bounce).auto_reason == "mailer-daemon"
    own = PLAIN.replace(b"Juergen@Example.DE", b"Service@Shop.test")
    assert read_headers(own, own_addresses=("service@shop.test",)).auto_reason == "loop"


@pytest.mark.parametrize(
    "raw",
    [b"", b"  \r\n", b"\x00\x01\x02 binary garbage without headers", b"just some text\r\n"],
)
def test_bytes_without_mail_headers_are_unreadable(raw):
    with pytest.raises(UnreadableMail):
        read_headers(raw)


def test_unreadable_is_permanent():
    assert issubclass(UnreadableMail, PermanentError)


@given(st.binary(max_size=300))
def test_read_headers_never_raises_anything_but_unreadable(raw):
    with contextlib.suppress(UnreadableMail):
        read_headers(raw)


def test_split_message_ids_keeps_order():
    assert split_message_ids("<a@x> junk <b@y>\r\n <c@z>") == ("<a@x>", "<b@y>", "<c@z>")
    assert split_message_ids(None) == ()


def test_dedupe_key_by_message_id_else_content_hash():
    assert dedupe_key(" <a@x> ", b"raw") == "<a@x>"
    assert dedupe_key(None, b"raw") == dedupe_key(None, b"raw")
    assert dedupe_key(None, b"raw").startswith("sha256:")
    assert dedupe_key(None, b"raw") != dedupe_key(None, b"raw2")


@pytest.mark.parametrize(
    ("closed_ago", "reopen_days", "auto", "expected"),
    [
        (None, 14, False, "update"),
        (timedelta(days=3), 14, False, "reopen"),
        (timedelta(days=14), 14, False, "new"),
        (timedelta(days=20), 14, False, "new"),
        (timedelta(hours=1), 0, False, "new"),
        (timedelta(days=3), 14, True, "update"),
        (timedelta(days=30), 14, True, "update"),
    ],
)
def test_decide_followup(closed_ago, reopen_days, auto, expected):
    closed = None if closed_ago is None else NOW - closed_ago
    assert decide_followup(closed, NOW, reopen_days, auto) == expected


def _copy(**overrides):
    values = {
        "message_id": "<reply-1@shop.test>",
        "date": datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc),
        "from_name": "Service",
        "from_address": "service@shop.test",
        "to": (("Jürgen Müller", "juergen@example.de"),),
        "subject": "[#C-00042] Refund",
        "body_html": "<p>Grüße</p>",
        "in_reply_to": "<abc@mail.example.de>",
        "attachments": (("label.pdf", "application/pdf", b"%PDF-1.4"),),
    }
    return SentCopy(**{**values, **overrides})


def test_build_sent_copy_round_trips():
    raw = build_sent_copy(_copy())
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Message-ID"] == "<reply-1@shop.test>"
    assert message["Subject"] == "[#C-00042] Refund"
    assert message["In-Reply-To"] == "<abc@mail.example.de>"
    assert "juergen@example.de" in message["To"]
    assert "Grüße" in message.get_body(("html",)).get_content()
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "label.pdf"
    assert attachment.get_content() == b"%PDF-1.4"
    assert read_headers(raw).case_token == "C-00042"


def test_build_sent_copy_references_as_the_mail_went_out():
    sent = "<older@shop.test>\n <abc@mail.example.de>  <reply-1@shop.test>"
    message = message_from_bytes(build_sent_copy(_copy(references=sent)), policy=policy.default)
    assert message["References"] == "<older@shop.test> <abc@mail.example.de> <reply-1@shop.test>"
    assert message["In-Reply-To"] == "<abc@mail.example.de>"


def test_build_sent_copy_references_default_to_the_parent():
    message = message_from_bytes(build_sent_copy(_copy()), policy=policy.default)
    assert message["References"] == "<abc@mail.example.de>"
    first = message_from_bytes(build_sent_copy(_copy(in_reply_to=None)), policy=policy.default)
    assert first["In-Reply-To"] is None
    assert first["References"] is None
    own = build_sent_copy(_copy(in_reply_to=None, references="<reply-1@shop.test>"))
    own = message_from_bytes(own, policy=policy.default)
    assert (own["In-Reply-To"], own["References"]) == (None, "<reply-1@shop.test>")


def test_build_sent_copy_refuses_missing_recipient_and_naive_date():
    with pytest.raises(PermanentError, match="no recipient"):
        build_sent_copy(_copy(to=()))
    with pytest.raises(ValueError, match="timezone"):
        build_sent_copy(_copy(date=datetime(2026, 3, 2)))
