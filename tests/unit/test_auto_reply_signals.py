"""Automatic mail is recognised by one detector, wherever the inbox reads a mail.

Every signal is checked through both readers: the header-only routing of the inbox
(``read_headers``) and the full parser (``parse_message``).
"""

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.mail_crm_shop.services.mail_routing import (
    case_reply_address,
    case_token_from_addresses,
    read_headers,
)
from shopaddons.mail_crm_shop.services.mime import parse_message
from shopaddons.mail_crm_shop.services.mime_auto import detect_auto_reason

OWN = ("service@shop.test",)
CUSTOMER = (
    b"From: Erika Muster <erika@kunde.example>\r\n"
    b"To: service@shop.test\r\n"
    b"Subject: Wo bleibt mein Paket?\r\n"
    b"Message-ID: <m1@kunde.example>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n"
)


def _mail(extra: bytes = b"", base: bytes = CUSTOMER) -> bytes:
    return extra + base + b"\r\nHallo\r\n"


def _both(raw: bytes) -> tuple[str | None, str | None]:
    return read_headers(raw, OWN).auto_reason, parse_message(raw).auto_reason


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (b"Auto-Submitted: auto-replied\r\n", "auto-submitted"),
        (b"Auto-Submitted: auto-generated; owner-email=x@y.example\r\n", "auto-submitted"),
        (b"Precedence: bulk\r\n", "precedence"),
        (b"Precedence: junk\r\n", "precedence"),
        (b"Precedence: list\r\n", "precedence"),
        (b"X-Autoreply: yes\r\n", "x-autoreply"),
        (b"X-Autorespond: Urlaub bis 10.3.\r\n", "x-autoreply"),
        (b"X-Autoresponder: on\r\n", "x-autoreply"),
        (b"Return-Path: <>\r\n", "null-return-path"),
        (b"Return-Path:   < >\r\n", "null-return-path"),
        (b"X-Failed-Recipients: weg@kunde.example\r\n", "bounce"),
    ],
)
def test_each_signal_is_seen_by_both_readers(extra, reason):
    assert _both(_mail(extra)) == (reason, reason)
    assert read_headers(_mail(extra), OWN).is_auto_reply
    assert parse_message(_mail(extra)).is_auto_reply


def test_empty_return_path_reaches_the_inbox_flag():
    headers = read_headers(_mail(b"Return-Path: <>\r\n"), OWN)
    assert (headers.is_auto_reply, headers.auto_reason) == (True, "null-return-path")


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        (b"MAILER-DAEMON@mx.kunde.example", "mailer-daemon"),
        (b"mailer-daemon@mx.kunde.example", "mailer-daemon"),
    ],
)
def test_mailer_daemon_sender_is_automatic(sender, reason):
    raw = _mail(base=CUSTOMER.replace(b"erika@kunde.example", sender))
    assert _both(raw) == (reason, reason)


def test_postmaster_with_null_return_path_is_a_bounce():
    raw = _mail(b"Return-Path: <>\r\n", CUSTOMER.replace(b"erika@", b"postmaster@"))
    assert _both(raw) == ("bounce", "bounce")


def test_delivery_status_report_is_a_bounce_for_the_header_reader():
    extra = b'Content-Type: multipart/report; report-type="delivery-status"; boundary=x\r\n'
    assert read_headers(_mail(extra), OWN).auto_reason == "bounce"


def test_own_address_or_x_loop_is_a_loop():
    own = CUSTOMER.replace(b"erika@kunde.example", b"Service@Shop.test")
    assert read_headers(_mail(base=own), OWN).auto_reason == "loop"
    assert read_headers(_mail(b"X-Loop: service@shop.test\r\n"), OWN).auto_reason == "loop"
    # the parser does not know the mailbox: no loop there
    assert parse_message(_mail(b"X-Loop: service@shop.test\r\n")).auto_reason is None


def test_out_of_office_subject_is_seen_by_both_readers():
    raw = _mail(base=CUSTOMER.replace(b"Wo bleibt", b"Automatische Antwort: Wo bleibt"))
    assert _both(raw) == ("subject", "subject")


@pytest.mark.parametrize(
    "extra",
    [
        b"",
        b"Return-Path: <erika@kunde.example>\r\n",
        b"Return-Path: <bounce-123@mailer.kunde.example>\r\n",
        b"Auto-Submitted: no\r\n",
        b"X-Autoreply: no\r\n",
        b"Precedence: first-class\r\n",
        b"X-Auto-Response-Suppress: All\r\n",
        b"List-Unsubscribe: <mailto:u@kunde.example>\r\n",
        b"List-Id: Einkauf Kunde GmbH <einkauf.kunde.example>\r\n",
        b"X-Loop: other@elsewhere.example\r\n",
    ],
)
def test_a_customer_mail_is_not_automatic(extra):
    raw = _mail(extra)
    assert _both(raw) == (None, None)
    assert not read_headers(raw, OWN).is_auto_reply


def test_postmaster_writing_as_a_person_is_not_automatic():
    raw = _mail(base=CUSTOMER.replace(b"erika@", b"postmaster@"))
    assert _both(raw) == (None, None)


def test_list_mail_is_not_automatic_but_must_not_be_acknowledged():
    parsed = parse_message(_mail(b"List-Id: Einkauf <einkauf.kunde.example>\r\n"))
    assert (parsed.is_auto_reply, parsed.suppress_auto_response) == (False, True)
    plain = parse_message(_mail())
    assert plain.suppress_auto_response is False


def test_list_with_precedence_is_automatic():
    extra = b"List-Id: Radsport <radsport.lists.example>\r\nPrecedence: list\r\n"
    assert _both(_mail(extra)) == ("precedence", "precedence")


def test_body_verdict_wins_over_the_header_guess():
    headers = {"content-type": ['multipart/report; report-type="delivery-status"']}
    assert detect_auto_reason(headers, "x", "m@x.example") == "bounce"
    delayed = detect_auto_reason(
        headers, "x", "m@x.example", is_bounce=False, is_delivery_report=True
    )
    assert delayed == "delivery-report"


# -- case reply addresses (routing by the address a customer answers to) -------------------


@pytest.mark.parametrize(
    ("mailbox", "number", "expected"),
    [
        ("service@shop.test", "C-00042", "service+c-00042@shop.test"),
        ("service@shop.test", 42, "service+c-00042@shop.test"),
        ("Service@Shop.test", "c-7", "Service+c-00007@Shop.test"),
        ("service+old@shop.test", "C-00001", "service+c-00001@shop.test"),
    ],
)
def test_case_reply_address(mailbox, number, expected):
    assert case_reply_address(mailbox, number) == expected


@pytest.mark.parametrize(("mailbox", "number"), [("", "C-1"), ("service", "C-1"), ("a@b", "x")])
def test_case_reply_address_refuses_nonsense(mailbox, number):
    with pytest.raises(PermanentError):
        case_reply_address(mailbox, number)


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (("service+c-00042@shop.test",), "C-00042"),
        (("SERVICE+C-42@SHOP.TEST",), "C-00042"),
        (("someone@else.example", "service+c-00007@shop.test"), "C-00007"),
        (("service@shop.test",), None),
        (("service+c-00042@other.test",), None),
        (("info+c-00042@shop.test",), None),
        (("service+newsletter@shop.test",), None),
        (("service+c-@shop.test",), None),
        (("service+c-12x@shop.test",), None),
        ((), None),
    ],
)
def test_case_token_from_addresses(addresses, expected):
    assert case_token_from_addresses(addresses, OWN) == expected


def test_built_address_is_recognised():
    address = case_reply_address("service@shop.test", "C-00042")
    assert case_token_from_addresses((address,), OWN) == "C-00042"


@pytest.mark.parametrize("header", [b"To", b"Cc", b"Delivered-To"])
def test_read_headers_finds_the_case_of_the_reply_address(header):
    raw = (
        header
        + b": Service <service+c-00042@shop.test>\r\n"
        + CUSTOMER.replace(b"To: service@shop.test\r\n", b"")
        + b"\r\nDanke\r\n"
    )
    headers = read_headers(raw, OWN)
    assert headers.address_case_token == "C-00042"
    assert headers.case_token is None
    assert not headers.is_auto_reply


def test_reply_address_of_another_mailbox_names_no_case():
    raw = _mail(b"Delivered-To: info+c-00042@shop.test\r\n")
    assert read_headers(raw, OWN).address_case_token is None
    assert read_headers(_mail(b"Cc: service+c-00042@shop.test\r\n")).address_case_token is None
