"""Every message of CPython's e-mail test corpus through the inbox's pure parsers.

The corpus is deliberately nasty (broken boundaries, bad charsets, missing headers,
nested message/rfc822, non-ASCII bytes in headers). Each message must either parse or be
classified as unreadable with the documented error; any other exception is a crash of
the inbox cron and fails the test.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from shopaddons.mail_crm_shop.services.mail_routing import UnreadableMail, read_headers
from shopaddons.mail_crm_shop.services.mime import ParsedMail, ParseError, parse_message
from shopaddons.mail_crm_shop.services.mime_body import Attachment

from .corpus import cpython_email_corpus

CORPUS = cpython_email_corpus()  # fails loudly at collection if the corpus is missing


def _strings(parsed: ParsedMail):
    for field in fields(parsed):
        value = getattr(parsed, field.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, str):
                yield item
            elif isinstance(item, Attachment):
                yield from (item.filename, item.content_type, item.content_id or "")


def test_the_whole_corpus_is_there():
    names = {path.name for path in CORPUS}
    assert {"msg_01.txt", "msg_02.txt", "msg_10.txt"} <= names
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_message_parses_or_is_classified_unreadable(path):
    raw = path.read_bytes()
    try:
        parsed = parse_message(raw)
    except ParseError as exc:
        assert str(exc), "an unreadable mail carries its reason"
        return
    # everything the parser returns goes into the database: valid, encodable text
    for text in _strings(parsed):
        text.encode("utf-8")  # raises on lone surrogates
        assert "\x00" not in text, "PostgreSQL rejects NUL in text columns"
    for attachment in parsed.attachments:
        assert isinstance(attachment.data, bytes)
        assert attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_routing_headers_read_or_unreadable(path):
    raw = path.read_bytes()
    try:
        headers = read_headers(raw, ("service@shop.test",))
    except UnreadableMail as exc:
        assert str(exc)
        return
    assert isinstance(headers.subject, str)
    headers.subject.encode("utf-8")
    assert all(isinstance(ref, str) for ref in headers.reference_ids)


def test_the_parser_reads_nearly_all_of_the_corpus():
    """The corpus holds real mails: 'unreadable' is for bytes that are no mail at all."""
    unreadable = []
    for path in CORPUS:
        try:
            parse_message(path.read_bytes())
        except ParseError:
            unreadable.append(path.name)
    assert len(unreadable) <= 2, unreadable
