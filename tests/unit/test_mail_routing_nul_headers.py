"""strip_nul_headers parses only the headers that can decode to NUL."""

import email
from email.policy import EmailPolicy

import pytest

from shopaddons.mail_crm_shop.services.mail_routing import strip_nul_headers


class CountingPolicy(EmailPolicy):
    """``email.policy.SMTP`` noting which headers were parsed."""

    parsed: list

    def header_fetch_parse(self, name, value):
        self.parsed.append(name.lower())
        return super().header_fetch_parse(name, value)


def _message(raw):
    policy = CountingPolicy(linesep="\r\n")
    object.__setattr__(policy, "parsed", [])
    return email.message_from_bytes(raw, policy=policy), policy.parsed


CLEAN = (
    b"From: Kunde <kunde@example.de>\r\nTo: service@shop.example\r\n"
    b"Subject: Frage zu Bestellung 100042\r\nMessage-ID: <q-1@example.de>\r\n"
    b"Received: from mx.example.de by mx.shop.example; Mon, 2 Nov 2026 09:00:00 +0000\r\n"
    b"\r\nHallo"
)


def test_clean_headers_are_not_parsed_and_stay_as_they_are():
    message, parsed = _message(CLEAN)
    before = list(message.raw_items())
    assert strip_nul_headers(message) is message
    assert parsed == []
    assert list(message.raw_items()) == before


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Subject: =?utf-8?q?Null=00Byte?=", "NullByte"),
        (b"Subject: Null\x00Byte", "NullByte"),
        (b"Subject: =?utf-8?b?TnVsbABCeXRl?=", "NullByte"),  # base64 of Null\0Byte
    ],
)
def test_headers_that_decode_to_nul_are_cleaned(header, expected):
    message, parsed = _message(CLEAN.replace(b"Subject: Frage zu Bestellung 100042", header))
    strip_nul_headers(message)
    assert str(message["Subject"]) == expected
    assert "from" not in parsed, "the clean headers are left unparsed"


def test_percent_encoded_parameter_is_checked():
    raw = CLEAN.replace(
        b"\r\n\r\nHallo",
        b"\r\nContent-Disposition: attachment; filename*=utf-8''a%00b.txt\r\n\r\nHallo",
    )
    message, parsed = _message(raw)
    strip_nul_headers(message)
    assert "content-disposition" in parsed
    assert all("\x00" not in str(value) for value in message.get_all("Content-Disposition"))
