"""Bounce parsing: RFC 3464 reports and common non-standard bounces, hard vs soft."""

from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.dsn import Dsn, NotADsnError, is_hard, parse_dsn
from shopaddons.mail_crm_shop.services.errors import PermanentError

from ..conftest import DATA_DIR

DSN_DIR = DATA_DIR / "dsn"


def _parse(name: str) -> tuple[Dsn, ...]:
    return parse_dsn((DSN_DIR / name).read_bytes())


# (file, original Message-ID, [(recipient, action, status, hard, remote MTA)], source)
GOLDEN = [
    (
        "postfix_user_unknown.eml",
        "<1772442845.381726.102938@odoo.haendler-beispiel.de>",
        [("max.mustermann@kunde-beispiel.de", "failed", "5.1.1", True, "mx01.kunde-beispiel.de")],
        "rfc3464",
    ),
    (
        "postfix_delayed.eml",
        "<1772528564.118273.55421@odoo.haendler-beispiel.de>",  # folded header
        [("bestellung@langsam-beispiel.de", "delayed", "4.4.1", False, "")],
        "rfc3464",
    ),
    (
        "gmail_failure.eml",
        "<1773138137.73001.8812@odoo.haendler-beispiel.de>",
        [("lisa.wagner.1987@gmail.com", "failed", "5.1.1", True, "gmail-smtp-in.l.google.com")],
        "rfc3464",
    ),
    (
        "exchange_online_ndr.eml",
        "<1772788370.90211.33017@odoo.haendler-beispiel.de>",
        [("j.becker@firma-beispiel.de", "failed", "5.1.10", True, "")],
        "rfc3464",
    ),
    (
        "exchange_legacy_ndr.eml",
        "<1772982310.22018.1001@odoo.haendler-beispiel.de>",
        [("einkauf@buero-beispiel.de", "failed", "5.1.1", True, "")],
        "text",
    ),
    (
        "exim_failed.eml",
        "<1772610082.551122.77120@odoo.haendler-beispiel.de>",
        [
            (
                "info@alter-laden-beispiel.de",
                "failed",
                "5.1.1",
                True,
                "mx00.alter-laden-beispiel.de",
            ),
            ("k.schmidt@kunde-beispiel.de", "failed", "5.2.2", False, "mail.kunde-beispiel.de"),
        ],
        "text",
    ),
    (
        "exim_delayed.eml",
        "",  # Exim's delay warning carries no copy of the message
        [("service@traege-beispiel.de", "delayed", "4.7.1", False, "mx.traege-beispiel.de")],
        "text",
    ),
    (
        "qmail_failed.eml",
        "<1772708560.44412.9911@odoo.haendler-beispiel.de>",
        [("petra.meier@altmail-beispiel.de", "failed", "5.0.0", True, "198.51.100.200")],
        "text",
    ),
]


@pytest.mark.parametrize(("name", "message_id", "expected", "source"), GOLDEN, ids=lambda v: v)
def test_golden_bounces(name, message_id, expected, source):
    found = _parse(name)
    assert [
        (d.final_recipient, d.action, d.status, d.hard, d.remote_mta) for d in found
    ] == expected
    assert {d.original_message_id for d in found} == {message_id}
    assert {d.source for d in found} == {source}


def test_every_golden_file_is_covered():
    assert {p.name for p in DSN_DIR.glob("*.eml")} == {g[0] for g in GOLDEN}


def test_diagnostic_codes_are_kept_unfolded():
    (postfix,) = _parse("postfix_user_unknown.eml")
    assert postfix.diagnostic_code == (
        "smtp; 550 5.1.1 <max.mustermann@kunde-beispiel.de>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    (qmail,) = _parse("qmail_failed.eml")
    assert qmail.diagnostic_code == "Remote host said: 550 No such user here"
    info, quota = _parse("exim_failed.eml")
    assert quota.diagnostic_code == "552 5.2.2 Mailbox full, quota exceeded"
    assert info.diagnostic_code.startswith("550 5.1.1 <info@alter-laden-beispiel.de>")


@pytest.mark.parametrize(
    ("action", "status", "hard"),
    [
        ("failed", "5.1.1", True),
        ("failed", "5.7.1", True),
        ("failed", "5.2.2", False),  # mailbox full: soft
        ("failed", "5.4.7", False),  # delivery time expired: soft
        ("failed", "4.4.1", False),
        ("delayed", "4.2.0", False),
        ("delayed", "5.1.1", False),
        ("delivered", "2.0.0", False),
    ],
)
def test_hard_or_soft(action, status, hard):
    assert is_hard(action, status) is hard


def _report(per_recipient: str, original: str | None = None, original_type="message/rfc822"):
    parts = [
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery report\r\n",
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.net\r\n\r\n{per_recipient}\r\n",
    ]
    if original is not None:
        parts.append(f"--B\r\nContent-Type: {original_type}\r\n\r\n{original}\r\n")
    return (
        "From: MAILER-DAEMON@example.net\r\nTo: shop@example.com\r\nSubject: report\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        + "".join(parts)
        + "--B--\r\n"
    ).encode()


def test_several_recipients_in_one_report():
    raw = _report(
        "Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "Final-Recipient: rfc822; b@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
        "Final-Recipient: rfc822; c@example.org\r\nAction: relayed\r\nStatus: 2.0.0\r\n\r\n"
        "Original-Recipient: rfc822; list@example.org\r\n"
        "Final-Recipient: rfc822; d@example.org\r\nAction: expanded\r\nStatus: 2.0.0",
        "Message-ID: <orig@example.com>\r\nSubject: x\r\n\r\nbody",
    )
    found = parse_dsn(raw)
    assert [(d.final_recipient, d.action, d.hard) for d in found] == [
        ("a@example.org", "failed", True),
        ("b@example.org", "delivered", False),
        ("c@example.org", "relayed", False),
        ("d@example.org", "expanded", False),
    ]
    assert found[3].original_recipient == "list@example.org"
    assert {d.original_message_id for d in found} == {"<orig@example.com>"}


def test_status_with_comment_and_missing_action_are_understood():
    (dsn,) = parse_dsn(
        _report("Final-Recipient: rfc822;x@example.org\r\nStatus: 4.2.0 (greylisted)")
    )
    assert (dsn.action, dsn.status, dsn.hard) == ("delayed", "4.2.0", False)


def test_status_missing_is_taken_from_the_diagnostic_code():
    (dsn,) = parse_dsn(
        _report(
            "Final-Recipient: rfc822;x@example.org\r\nAction: failed\r\n"
            "Diagnostic-Code: smtp; 550 mailbox unavailable"
        )
    )
    assert (dsn.status, dsn.hard) == ("5.0.0", True)


def test_original_headers_part_gives_the_message_id():
    (dsn,) = parse_dsn(
        _report(
            "Final-Recipient: rfc822;x@example.org\r\nAction: failed\r\nStatus: 5.1.1",
            "Message-ID: <hdr-only@example.com>\r\nSubject: x",
            original_type="text/rfc822-headers",
        )
    )
    assert dsn.original_message_id == "<hdr-only@example.com>"


def test_a_report_without_the_original_has_no_message_id():
    (dsn,) = parse_dsn(
        _report("Final-Recipient: rfc822;x@example.org\r\nAction: failed\r\nStatus: 5.1.1")
    )
    assert dsn.original_message_id == ""


def _plain(sender: str, subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "shop@example.com", subject
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize(
    "raw",
    [
        _plain("kunde@example.org", "Re: Bestellung 4711", "Danke, die Ware ist angekommen."),
        _plain(
            "kunde@example.org",
            "Abwesenheitsnotiz",
            "Ich bin bis 12.3. nicht im Büro. Ihre Nachricht wird nicht weitergeleitet.",
        ),
        _plain("newsletter@example.org", "Delivery failed?", "Our delivery failed, sorry."),
        b"",
        b"\x00\xff garbage",
        _report("Reporting-MTA: dns; only.per-message.example"),
    ],
    ids=["reply", "out-of-office", "customer-words", "empty", "garbage", "empty-report"],
)
def test_ordinary_mail_is_not_a_bounce(raw):
    with pytest.raises(NotADsnError):
        parse_dsn(raw)


def test_not_a_dsn_is_a_permanent_error():
    assert issubclass(NotADsnError, PermanentError)
    with pytest.raises(NotADsnError, match="bytes or str"):
        parse_dsn(None)


def test_str_input_is_accepted():
    text = (DSN_DIR / "qmail_failed.eml").read_text()
    assert parse_dsn(text) == _parse("qmail_failed.eml")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(raw):
    try:
        result = parse_dsn(raw)
    except NotADsnError:
        return
    assert all(isinstance(d, Dsn) for d in result)


_FIELD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(_FIELD, _FIELD, _FIELD, _FIELD, st.sampled_from(["rfc822", "text/rfc822-headers", None]))
def test_random_report_fields_never_crash(recipient, action, status, diagnostic, original):
    raw = _report(
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}",
        None if original is None else f"Message-ID: <{recipient}>\r\n\r\nx",
        original_type="message/rfc822" if original == "rfc822" else "text/rfc822-headers",
    )
    try:
        result = parse_dsn(raw)
    except NotADsnError:
        return
    for dsn in result:
        assert dsn.action in ("failed", "delayed", "delivered", "relayed", "expanded")
        assert dsn.hard == is_hard(dsn.action, dsn.status)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["MAILER-DAEMON@example.net", "x@example.org"]))
def test_random_plain_text_bounces_never_crash(body, sender):
    raw = (
        f"From: {sender}\r\nSubject: Undelivered Mail\r\n\r\n"
        f"This message was created automatically by mail delivery software.\r\n{body}"
    ).encode("utf-8", "surrogatepass")
    try:
        result = parse_dsn(raw)
    except NotADsnError:
        return
    assert result
