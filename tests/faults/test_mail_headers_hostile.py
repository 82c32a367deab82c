"""Hostile header bytes through the inbox's routing headers: nothing PostgreSQL refuses.

Everything ``read_headers`` returns is written to text columns or used in queries (the
dedupe key, Message-ID lookups); a NUL character there makes the sync or the processing
of that mail fail on every run.
"""

from __future__ import annotations

import email
from collections import namedtuple
from email import policy

from hypothesis import given, settings
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.mail_routing import (
    HEADER_PARSE_ERRORS,
    UnreadableMail,
    clean_parsed_mail,
    dedupe_key,
    read_headers,
    strip_nul_headers,
)


def _strings(headers):
    yield headers.subject
    yield headers.from_name
    yield headers.from_address or ""
    yield headers.message_id or ""
    yield from headers.in_reply_to
    yield from headers.references


def test_nul_in_message_id_and_subject_is_dropped():
    raw = b"From: a@example.de\r\nSubject: Hallo\x00Welt\r\nMessage-ID: <ab\x00c@x>\r\n\r\nHi"
    headers = read_headers(raw)
    assert headers.message_id == "<abc@x>"
    assert headers.subject == "HalloWelt"
    assert "\x00" not in dedupe_key(headers.message_id, raw)


def test_encoded_nul_is_dropped_too():
    raw = b"From: a@example.de\r\nSubject: =?utf-8?q?a=00b?=\r\n\r\nHi"
    assert read_headers(raw).subject == "ab"


_header_value = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=300, deadline=None, database=None)
@given(
    subject=_header_value,
    sender=_header_value,
    message_id=_header_value,
    references=_header_value,
)
def test_header_text_never_holds_nul_or_surrogates(subject, sender, message_id, references):
    raw = (
        b"From: " + sender + b" <kunde@example.de>\r\n"
        b"Subject: " + subject + b"\r\n"
        b"Message-ID: <" + message_id + b"@example.de>\r\n"
        b"References: " + references + b"\r\n\r\nbody"
    )
    try:
        headers = read_headers(raw)
    except UnreadableMail:
        return
    for text in _strings(headers):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates either
    assert "\x00" not in dedupe_key(headers.message_id, raw)


def test_strip_nul_headers_cleans_encoded_words_for_the_gateway():
    raw = (
        b"From: kunde@example.de\r\nSubject: =?utf-8?q?Null=00Byte?=\r\n"
        b"References: =?utf-8?q?<a=00b@x>?=\r\nIn-Reply-To: <c@x>\r\n\r\nHallo"
    )
    message = strip_nul_headers(email.message_from_bytes(raw, policy=policy.SMTP))
    assert str(message["Subject"]) == "NullByte"
    assert str(message["References"]) == "<ab@x>"
    assert str(message["In-Reply-To"]) == "<c@x>", "clean headers are left alone"
    assert message.get_content().strip() == "Hallo"


@settings(max_examples=200, deadline=None, database=None)
@given(name=st.sampled_from(["Subject", "From", "References", "Message-ID"]), data=st.binary())
def test_strip_nul_headers_leaves_no_nul_or_raises_a_parse_error(name, data):
    word = b"=?utf-8?q?" + b"".join(b"=%02X" % x for x in data[:40]) + b"?="
    raw = b"From: a@example.de\r\n" + name.encode() + b": " + word + b"\r\n\r\nx"
    message = email.message_from_bytes(raw, policy=policy.SMTP)
    try:
        strip_nul_headers(message)
    except HEADER_PARSE_ERRORS:
        return  # the inbox turns such a mail into a flagged "unreadable" case
    for key in message:
        try:
            values = [str(value) for value in message.get_all(key)]
        except HEADER_PARSE_ERRORS:
            continue  # the stdlib cannot read it at all: nothing reaches the database
        assert all("\x00" not in value for value in values)


Attachment = namedtuple("Attachment", ("fname", "content", "info"))  # as Odoo's


def test_clean_parsed_mail_drops_nul_and_relabels_unknown_attachment_charsets():
    parsed = {
        "subject": "Null\x00Byte",
        "body": "<p>a\x00b</p>",
        "attachments": [
            Attachment("a.txt", "text", {"encoding": "x-unknown"}),
            Attachment("b.txt", "text", {"encoding": "latin-1"}),
            Attachment("c.bin", b"\x00\x01", {"encoding": "x-unknown"}),
        ],
        "parent_id": 7,
    }
    cleaned = clean_parsed_mail(parsed)
    assert cleaned["subject"] == "NullByte"
    assert cleaned["body"] == "<p>ab</p>"
    assert cleaned["parent_id"] == 7
    first, second, third = cleaned["attachments"]
    assert first == Attachment("a.txt", "text", {"encoding": "utf-8"})
    assert second == parsed["attachments"][1], "a known charset is kept"
    assert third == parsed["attachments"][2], "bytes are stored as they are"
    assert parsed["attachments"][0].info == {"encoding": "x-unknown"}, "input untouched"
