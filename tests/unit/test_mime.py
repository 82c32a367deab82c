"""parse_message over the hand-written corpus in tests/data/mail, edge cases, fuzzing."""

from __future__ import annotations

import base64
from dataclasses import fields
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.mail_crm_shop.services.mime import ParsedMail, ParseError, parse_message
from shopaddons.mail_crm_shop.services.mime_body import Attachment, html_to_text
from shopaddons.mail_crm_shop.services.mime_case_tokens import add_case_token, extract_case_token
from shopaddons.mail_crm_shop.services.mime_headers import normalize_message_id
from shopaddons.mail_crm_shop.services.mime_text import decode_bytes, decode_header_text

from ..conftest import DATA_DIR

MAIL_DIR = DATA_DIR / "mail"
CORPUS = sorted(MAIL_DIR.glob("*.eml"))
CET = timezone(timedelta(hours=1))
SHOP = "service@fahrradteile-mueller.de"


def _mail(name: str) -> ParsedMail:
    return parse_message((MAIL_DIR / name).read_bytes())


def _texts(parsed: ParsedMail):
    """Every str the parser produced (they all end up in the database)."""
    for field in fields(parsed):
        value = getattr(parsed, field.name)
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, str):
                    yield item
                elif isinstance(item, Attachment):
                    yield item.filename
                    yield item.content_type
                    yield item.content_id or ""


# -- the corpus --------------------------------------------------------------------------

EXPECTED = {
    "01_plain_utf8_qp.eml": {
        "message_id": "<b1c6a0e2-5f0e-4c1b-9d7a-1f2e3d4c5b6a@example.de>",
        "subject": "Frage zu Bestellung 10023 \u2013 Lieferzeit für Sattel",
        "from_address": "anna.schmidt@example.de",
        "from_name": "Anna Schmidt",
        "to": (SHOP,),
        "date": datetime(2025, 3, 3, 9, 14, 20, tzinfo=CET),
        "is_auto_reply": False,
    },
    "02_plain_latin1_8bit.eml": {
        "subject": "Rücksendung Gepäckträger",
        "from_address": "j.weiss@posteo.example",
        "from_name": "Jürgen Weiß",
        "cc": ("buchhaltung@fahrradteile-mueller.de", "jw-privat@posteo.example"),
    },
    "03_base64_utf8_split_word.eml": {
        "subject": "Reklamation: Lieferung beschädigt",
        "from_name": "Łukasz Nowak",
        "date": datetime(2025, 3, 5, 8, 1, 45, tzinfo=timezone.utc),
    },
    "04_alternative_gmail.eml": {
        "from_name": "Müller, Hans",
        "from_address": "hans.mueller@gmail.example",
        "reply_to": ("h.mueller@web.example",),
        "body_text": "Hallo,\nin meinem Paket lag keine Rechnung. Können Sie sie mir per Mail "
        "schicken?\nDanke, Hans",
    },
    "05_mixed_pdf_rfc2231.eml": {"body_text": "Anbei die Rechnung für die Gutschrift."},
    "07_forwarded_rfc822.eml": {
        "subject": "WG: Lieferung verspätet",
        "body_text": "Bitte kümmert euch darum, die Mail kam bei uns im Lager an.",
    },
    "08_outlook_autoreply.eml": {
        "is_auto_reply": True,
        "auto_reason": "auto-submitted",
        "suppress_auto_response": True,
        "in_reply_to": "<order-10023-shipped@fahrradteile-mueller.de>",
        "is_bounce": False,
    },
    "09_vacation_precedence_bulk.eml": {
        "is_auto_reply": True,
        "auto_reason": "precedence",
        "is_bounce": False,
    },
    "10_dsn_bounce.eml": {
        "is_bounce": True,
        "is_auto_reply": True,
        "auto_reason": "bounce",
        "from_address": "mailer-daemon@mx.fahrradteile-mueller.de",
        "from_name": "Mail Delivery System",
        "bounced_recipients": ("nobody@kunde-gibt-es-nicht.example",),
        "bounced_message_id": "<case-reply-C-00042-1@fahrradteile-mueller.de>",
    },
    "19_dsn_delayed_warning.eml": {
        "is_bounce": False,
        "is_auto_reply": True,
        "auto_reason": "delivery-report",
        "bounced_recipients": (),
        "bounced_message_id": None,
    },
    "11_malformed_headers.eml": {
        "message_id": "<broken-headers-1@spam.example>",
        "subject": "Angebot",
        "from_address": None,
        "date": None,
        "to": (SHOP,),
        "body_text": "Der Absender ist kaputt und es gibt kein Datum.",
    },
    "12_mislabelled_charset.eml": {
        "subject": "Größe der Handschuhe",
        "from_name": "Zoë Brandt",
        "body_text": "Passen die Handschuhe in Größe M auch für schmale Hände? Grüße, Zoë",
    },
    "13_reply_with_case_token.eml": {
        "case_token": "C-00042",
        "in_reply_to": "<case-reply-C-00042-1@fahrradteile-mueller.de>",
        "references": (
            "<b1c6a0e2-5f0e-4c1b-9d7a-1f2e3d4c5b6a@example.de>",
            "<case-reply-C-00042-1@fahrradteile-mueller.de>",
        ),
        "is_auto_reply": False,
    },
    "14_broken_encoded_words.eml": {
        "subject": "Große =?utf-8?B?***kaputt***?= Fahrräder für Kinder",
        "from_name": "Björn Käse",
        "body_text": "Gibt es die Kinderfahrräder auch in Blau?",
    },
    "15_html_only_windows1252.eml": {
        "subject": "Preisanfrage \u2013 1000 Schläuche",
        "from_name": "Rad & Tour GmbH",
        "body_text": "Preisanfrage\n\nWas kosten 1000 Schläuche? Budget: 2.500 €.",
    },
    "16_marketplace_message.eml": {
        "is_auto_reply": False,
        "reply_to": ("k9x2m4q7b3@marketplace.example",),
        "body_html": "<p>Hallo, kann ich die Lieferadresse noch ändern?</p>",
    },
    "17_apple_inline_attachment.eml": {
        "body_text": "Hier das Foto:\n\nDas Schutzblech ist gebrochen.\nFelix",
    },
    "18_x_autoreply_calendar.eml": {"is_auto_reply": True, "auto_reason": "x-autoreply"},
}


def test_the_corpus_is_complete():
    assert len(CORPUS) >= 15
    assert set(EXPECTED) <= {path.name for path in CORPUS}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_mail_parses_to_clean_text(path):
    parsed = parse_message(path.read_bytes())
    assert isinstance(parsed, ParsedMail)
    for text in _texts(parsed):
        text.encode("utf-8")  # no lone surrogates: storable in PostgreSQL
        assert "\x00" not in text
        assert "\ufffd" not in text, text  # best effort found the right charset
    for address in (*parsed.to, *parsed.cc, *parsed.reply_to, parsed.from_address or ""):
        assert address == address.lower()
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert "\r" not in parsed.body_text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_mail_values(name):
    parsed = _mail(name)
    actual = {key: getattr(parsed, key) for key in EXPECTED[name]}
    assert actual == EXPECTED[name]


def test_ordinary_mails_are_not_automatic():
    automatic = {path.name for path in CORPUS if parse_message(path.read_bytes()).is_auto_reply}
    assert automatic == {
        "08_outlook_autoreply.eml",
        "09_vacation_precedence_bulk.eml",
        "10_dsn_bounce.eml",
        "18_x_autoreply_calendar.eml",
        "19_dsn_delayed_warning.eml",
    }


def test_only_the_failure_report_is_a_bounce():
    bounces = {path.name for path in CORPUS if parse_message(path.read_bytes()).is_bounce}
    assert bounces == {"10_dsn_bounce.eml"}


def test_pdf_attachment_with_rfc2231_file_name():
    (pdf,) = _mail("05_mixed_pdf_rfc2231.eml").attachments
    assert pdf.filename == "Rechnung März.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF-1.4") and pdf.data.rstrip().endswith(b"%%EOF")
    assert (pdf.inline, pdf.content_id) == (False, None)


def test_inline_image_keeps_its_content_id_for_the_html():
    parsed = _mail("06_related_inline_image.eml")
    (image,) = parsed.attachments
    assert image.content_id == "image001.png@01DB9012.5A3B4C70"
    assert image.inline is True
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert f'src="cid:{image.content_id}"' in parsed.body_html
    assert parsed.body_text.startswith("Hallo, siehe Foto")


def test_apple_inline_attachment_between_two_text_parts():
    (image,) = _mail("17_apple_inline_attachment.eml").attachments
    assert (image.filename, image.content_type, image.inline) == ("IMG_0042.png", "image/png", True)


def test_forwarded_mail_is_one_eml_attachment_that_parses_again():
    parsed = _mail("07_forwarded_rfc822.eml")
    (forward,) = parsed.attachments
    assert forward.filename == "Lieferung verspätet.eml"
    assert forward.content_type == "message/rfc822"
    inner = parse_message(forward.data)
    assert inner.message_id == "<inner-4242@kunde.example>"
    assert inner.from_address == "karl@kunde.example"
    assert inner.body_text == "Wo bleibt mein Paket? Bestellung 10077."
    assert [a.filename for a in inner.attachments] == ["sendungsverfolgung.txt"]
    assert inner.attachments[0].data.strip() == b"DHL 00340434161094000000"


def test_dsn_parts_are_kept_as_attachments():
    parsed = _mail("10_dsn_bounce.eml")
    names = [a.filename for a in parsed.attachments]
    assert names == ["delivery-status.txt", "rfc822-headers.txt"]
    status, headers = (a.data for a in parsed.attachments)
    assert b"Final-Recipient: rfc822; nobody@kunde-gibt-es-nicht.example" in status
    assert b"Message-ID: <case-reply-C-00042-1@fahrradteile-mueller.de>" in headers


def test_html_only_mail_gets_a_text_body_without_script():
    parsed = _mail("15_html_only_windows1252.eml")
    assert "alert" not in parsed.body_text
    assert "<script>" in parsed.body_html  # the HTML is kept as sent; Odoo sanitizes it


def test_calendar_part_is_an_attachment():
    (calendar,) = _mail("18_x_autoreply_calendar.eml").attachments
    assert (calendar.filename, calendar.content_type) == ("calendar.ics", "text/calendar")
    assert calendar.data.startswith(b"BEGIN:VCALENDAR")


# -- automatic mail headers ----------------------------------------------------------------

BASE = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: Hallo\r\n"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (b"Auto-Submitted: auto-generated\r\n", "auto-submitted"),
        (b"Auto-Submitted: auto-replied; owner-email=x@y.example\r\n", "auto-submitted"),
        (b"Auto-Submitted: no\r\n", None),
        (b"Auto-Submitted: No\r\n", None),
        (b"X-Autoreply: yes\r\n", "x-autoreply"),
        (b"X-Autorespond: Urlaub\r\n", "x-autoreply"),
        (b"Precedence: junk\r\n", "precedence"),
        (b"Precedence: list\r\n", "precedence"),
        (b"Precedence: auto_reply\r\n", "precedence"),
        (b"Precedence: first-class\r\n", None),
        (b"Return-Path: <>\r\n", "null-return-path"),
        (b"Return-Path: <a@b.example>\r\n", None),
        (b"List-Id: Radsport <radsport.lists.example>\r\n", None),  # see test below
        (b"X-Auto-Response-Suppress: All\r\n", None),  # a request, not a sign
        (b"List-Unsubscribe: <mailto:u@x.example>\r\n", None),
    ],
)
def test_auto_reply_headers(headers, reason):
    parsed = parse_message(BASE + headers + b"\r\nText\r\n")
    assert (parsed.is_auto_reply, parsed.auto_reason) == (reason is not None, reason)


@pytest.mark.parametrize(
    ("subject", "automatic"),
    [
        ("Automatische Antwort: Ihre Bestellung", True),
        ("Automatic reply: Your order", True),
        ("Abwesenheitsnotiz: Rechnung", True),
        ("Out of Office: bis 3.3.", True),
        ("Re: Automatische Antwort?", False),
        ("Frage zur automatischen Antwort", False),
    ],
)
def test_out_of_office_subjects(subject, automatic):
    raw = f"From: a@b.example\r\nSubject: {subject}\r\n\r\nx\r\n".encode()
    assert parse_message(raw).is_auto_reply is automatic


def test_mailer_daemon_with_null_return_path_is_a_bounce_even_without_report():
    raw = (
        b"Return-Path: <>\r\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@mx.example>\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\n\r\nUser unknown\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.is_bounce and parsed.auto_reason == "bounce"


def test_mailer_daemon_without_null_return_path_is_no_bounce():
    raw = b"From: postmaster@shop.example\r\nSubject: Frage\r\n\r\nHallo\r\n"
    assert parse_message(raw).is_bounce is False


def test_exim_failed_recipients_header_is_a_bounce():
    raw = BASE + b"X-Failed-Recipients: X@y.example, z@y.example\r\n\r\nfailed\r\n"
    parsed = parse_message(raw)
    assert parsed.is_bounce is True
    assert parsed.bounced_recipients == ("x@y.example", "z@y.example")


def _report(*blocks: str) -> bytes:
    status = "\r\n\r\n".join(["Reporting-MTA: dns; mx.example", *blocks])
    return (
        "From: MAILER-DAEMON@mx.example\r\nSubject: Report\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nReport\r\n"
        f"--r\r\nContent-Type: message/delivery-status\r\n\r\n{status}\r\n"
        "--r\r\nContent-Type: message/rfc822\r\n\r\n"
        "Message-ID: <ours-1@shop.example>\r\nSubject: x\r\n\r\nbody\r\n--r--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("blocks", "bounced"),
    [
        (["Final-Recipient: rfc822; a@x.example\r\nAction: failed"], ("a@x.example",)),
        (["Final-Recipient: rfc822;<A@x.example>\r\nAction: Failed"], ("a@x.example",)),
        (
            [
                "Final-Recipient: rfc822; a@x.example\r\nAction: delayed",
                "Final-Recipient: rfc822; b@x.example\r\nAction: failed",
            ],
            ("b@x.example",),
        ),
        (["Final-Recipient: rfc822; a@x.example\r\nAction: delivered"], None),
        (["Final-Recipient: rfc822; a@x.example\r\nAction: relayed"], None),
        ([], ()),  # a report without recipient blocks: better a bounce than lost
    ],
)
def test_delivery_reports(blocks, bounced):
    parsed = parse_message(_report(*blocks))
    assert parsed.is_auto_reply is True
    assert parsed.is_bounce is (bounced is not None)
    assert parsed.bounced_recipients == (bounced or ())
    expected_id = "<ours-1@shop.example>" if bounced is not None else None
    assert parsed.bounced_message_id == expected_id


# -- not a mail / broken mail -------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\r\n", b"\r\n\r\nonly a body\r\n"])
def test_not_a_mail_is_a_parse_error(raw):
    with pytest.raises(ParseError):
        parse_message(raw)


def test_parse_error_is_permanent():
    assert issubclass(ParseError, PermanentError)


def test_str_input_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_message("Subject: x\r\n\r\n")


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: nur ein Header",
        b"Subject: x\nContent-Type: multipart/mixed\n\nno boundary at all\n",
        b'Subject: x\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain'
        b"\n\nunterminated",
        b"Subject: x\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n",
        b"Subject: x\nContent-Type: text/plain; charset=utf-7\n\n+AOQ-\n",
        b"Subject: x\nContent-Type: text/plain; charset=base64\n\n\xe4\xf6\xfc\n",
        b"Subject: x\nDate: Mon, 99 Foo 20250 99:99:99 +9999\n\nbody\n",
        b"Subject: x\nDate: 32 Dec 99999999999999999999 10:00:00 +0100\n\nbody\n",
        b"Subject: \xff\xfe\x00broken\nFrom: \xe4\xf6 <\xe4@x.example>\n\nbody\n",
        b"Subject: x\nContent-Type: message/rfc822\n\nnot a message\n",
        b"Subject: x\nContent-Disposition: attachment; filename*=bogus''%ZZ\n\nbody\n",
    ],
)
def test_malformed_but_readable_mail_still_parses(raw):
    parsed = parse_message(raw)
    for text in _texts(parsed):
        text.encode("utf-8")


def test_missing_date_and_garbage_from():
    parsed = _mail("11_malformed_headers.eml")
    assert parsed.date is None and parsed.from_address is None
    assert "kaputt" in parsed.from_name  # shown to a person rather than dropped


# -- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "token"),
    [
        ("[#C-00042] Frage", "C-00042"),
        ("Re: AW: WG: Fwd: [#C-00042] Frage", "C-00042"),
        ("Frage zu Bestellung [#C-00042]", "C-00042"),
        ("AW: [# C-00042 ] Frage", "C-00042"),
        ("AW: [ #C- 00042] Frage", "C-00042"),
        ("[#c-42] Frage", "C-00042"),
        ("[#C-1234567] Frage", "C-1234567"),
        ("Bestellung C-00042", None),
        ("[C-00042] Frage", None),
        ("[#X-00042] Frage", None),
        ("[#C-] Frage", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_case_token(subject, token):
    assert extract_case_token(subject) == token


@pytest.mark.parametrize(
    ("subject", "number", "expected"),
    [
        ("Frage zu Bestellung", "C-00042", "[#C-00042] Frage zu Bestellung"),
        ("AW: Frage", "C-00042", "AW: [#C-00042] Frage"),
        ("Re: AW: Frage", 42, "Re: AW: [#C-00042] Frage"),
        ("AW: [#C-00042] Frage", "C-00042", "AW: [#C-00042] Frage"),
        ("AW: [# C-42 ] Frage", "C-00042", "AW: [# C-42 ] Frage"),
        ("AW: [#C-00007] Frage", "C-00042", "AW: [#C-00042] Frage"),
        ("[#C-00042] [#C-00042] Frage", "C-00042", "[#C-00042] Frage"),
        ("", "C-00042", "[#C-00042]"),
        (None, "c-42", "[#C-00042]"),
    ],
)
def test_add_case_token(subject, number, expected):
    assert add_case_token(subject, number) == expected


@pytest.mark.parametrize("number", ["", "42a", "X-00042", None])
def test_add_case_token_rejects_a_bad_number(number):
    with pytest.raises(PermanentError):
        add_case_token("Frage", number)


@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=80), number=st.integers(min_value=1, max_value=10**9))
def test_add_case_token_is_idempotent_and_found_again(subject, number):
    once = add_case_token(subject, number)
    assert add_case_token(once, number) == once
    assert extract_case_token(once) == f"C-{number:05d}"
    assert once.count("[#") - subject.count("[#") <= 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@host.example>", "<abc@host.example>"),
        ("  <abc@host.example>  ", "<abc@host.example>"),
        ("<abc@host.example> (added by foo)", "<abc@host.example>"),
        ("<abc\r\n @host.example>", "<abc@host.example>"),
        ("abc@host.example", "<abc@host.example>"),
        ("<a@x> <b@y>", "<a@x>"),
        ("", None),
        (None, None),
        ("no id here", None),
    ],
)
def test_normalize_message_id(value, expected):
    assert normalize_message_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
        ("=?utf-8?b?R3LDvMOfZQ==?=", "Grüße"),
        ("=?utf-8?b?R3LDvMOfZQ?=", "Grüße"),  # missing padding
        ("=?iso-8859-1?q?Gr=FC=DFe?=", "Grüße"),
        ("=?us-ascii?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # mislabelled charset
        ("=?x-unknown?Q?Gr=FC=DFe?=", "Grüße"),  # unknown charset
        ("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),  # whitespace between words is dropped
        ("=?utf-8?Q?a?= und =?utf-8?Q?b?=", "a und b"),
        ("=?utf-8?B?!!!?= bleibt", "=?utf-8?B?!!!?= bleibt"),
        ("Zeile\r\n eins", "Zeile eins"),
        ("", ""),
        (None, ""),
    ],
)
def test_decode_header_text(value, expected):
    assert decode_header_text(value) == expected


def test_raw_utf8_header_bytes_are_decoded():
    parsed = parse_message("Subject: Größe\r\nFrom: Zoë <z@x.example>\r\n\r\nx".encode())
    assert (parsed.subject, parsed.from_name) == ("Größe", "Zoë")


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("Grüße".encode(), "utf-8", "Grüße"),
        ("Grüße".encode("latin-1"), "iso-8859-1", "Grüße"),
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # UTF-8 labelled Latin-1
        ("Grüße".encode("latin-1"), "utf-8", "Grüße"),  # Latin-1 labelled UTF-8
        ("2.500 €".encode("cp1252"), None, "2.500 €"),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        (b"", "utf-8", ""),
        (b"\x81\x8d\x8f", "nonsense", "\x81\x8d\x8f"),  # Latin-1: never fails
    ],
)
def test_decode_bytes(data, charset, expected):
    assert decode_bytes(data, charset) == expected


def test_html_to_text_skips_head_style_and_script():
    html = "<html><head><title>T</title><style>p{}</style></head><body><p>A</p>B<br>C</body>"
    assert html_to_text(html) == "A\nB\nC"


# -- fuzzing ---------------------------------------------------------------------------------


def _check_fuzzed(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except ParseError:
        return
    for text in _texts(parsed):
        text.encode("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_parse_error(raw):
    _check_fuzzed(raw)


HEADER_NAMES = st.sampled_from(
    [
        "Subject",
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Auto-Submitted",
        "Precedence",
        "Return-Path",
        "Content-ID",
        "Content-Disposition",
        "X-Autoreply",
    ]
)
CHARSETS = st.sampled_from(
    ["utf-8", "iso-8859-1", "us-ascii", "windows-1252", "x-unknown", "utf-7", "", "base64"]
)
HEADER_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda cs, enc, payload: f"=?{cs}?{enc}?{payload}?=",
        CHARSETS,
        st.sampled_from(["Q", "B", "q", "b"]),
        st.text(alphabet="=ABCDEF0123456789abc_+/?", max_size=20),
    ),
    st.builds(lambda name, addr: f"{name} <{addr}>", st.text(max_size=15), st.emails()),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)


def _header_block(draw_headers) -> bytes:
    lines = []
    for name, value in draw_headers:
        value = value if isinstance(value, bytes) else value.encode("utf-8")
        lines.append(name.encode() + b": " + value)
    return b"\r\n".join(lines)


@st.composite
def mime_parts(draw, depth=0):
    kind = draw(st.sampled_from(["text", "html", "binary", "multipart", "rfc822"]))
    if depth >= 3 and kind in ("multipart", "rfc822"):
        kind = "text"
    headers = [(name, draw(HEADER_TEXT)) for name in draw(st.lists(HEADER_NAMES, max_size=3))]
    cte = draw(st.sampled_from(["", "base64", "quoted-printable", "8bit", "x-bogus"]))
    if cte:
        headers.append(("Content-Transfer-Encoding", cte))
    payload = draw(st.binary(max_size=200))
    if cte == "base64" and draw(st.booleans()):
        payload = base64.encodebytes(payload)
    if kind in ("text", "html"):
        subtype = "plain" if kind == "text" else "html"
        headers.append(("Content-Type", f"text/{subtype}; charset={draw(CHARSETS)}"))
        body = payload
    elif kind == "binary":
        name = draw(st.text(max_size=20))
        headers.append(("Content-Type", f'application/pdf; name="{name}"'))
        body = payload
    elif kind == "rfc822":
        headers.append(("Content-Type", "message/rfc822"))
        body = draw(mime_parts(depth + 1))
    else:
        boundary = draw(st.sampled_from(["b1", "==b2==", "x" * 70, ""]))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
        headers.append(("Content-Type", f'multipart/{subtype}; boundary="{boundary}"'))
        children = draw(st.lists(mime_parts(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"
    return _header_block(headers) + b"\r\n\r\n" + body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime_parts())
def test_random_mime_structures_never_raise_anything_but_parse_error(raw):
    _check_fuzzed(raw)
