"""Confirmations in the text of a mail: notices, inline XML/CSV, HTML-only, QP-encoded."""

import email
import email.policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shipping_exchange.services.confirmation import Confirmation, CsvMapping
from shopaddons.shipping_exchange.services.mail_confirmation import (
    TextPatterns,
    check_pattern,
    html_to_text,
    mail_text,
    parse_mail_text,
    tracking_numbers,
)

from ..conftest import ADDONS_DIR

MAILS = ADDONS_DIR / "shipping_exchange" / "tests" / "data" / "mails"


def _mail(name):
    return email.message_from_bytes((MAILS / name).read_bytes(), policy=email.policy.default)


def _pairs(batch):
    return [(c.reference, c.tracking_ref) for c in batch.confirmations]


# --------------------------------------------------------------------------- real mails


def test_german_plain_text_quoted_printable_notice():
    text = mail_text(_mail("notice_de_plain_qp.eml"))
    assert "übergeben" in text and "Lagerstraße 5" in text  # QP and UTF-8 decoded
    batch = parse_mail_text(text)
    assert _pairs(batch) == [("WH/OUT/00042", "00340434161234567890,00340434161234567891")]
    assert batch.rejections == ()


def test_english_html_only_notice():
    text = mail_text(_mail("notice_en_html_only.eml"))
    assert "<" not in text and "td {" not in text  # tags, styles and title dropped
    assert "Your reference: WH/OUT/00042" in text.splitlines()
    assert _pairs(parse_mail_text(text)) == [("WH/OUT/00042", "1Z999AA10123456784")]


def test_csv_pasted_into_a_multipart_mail_prefers_the_plain_part():
    text = mail_text(_mail("inline_csv_de.eml"))
    assert text.startswith("Hallo,")
    batch = parse_mail_text(text)
    assert batch.confirmations == (
        Confirmation("WH/OUT/00042", "00340434161234567892", "DHL", (), None),
    )


def test_unrecognised_wording_is_a_reason_not_a_silent_drop():
    text = mail_text(_mail("notice_unrecognised.eml"))
    with pytest.raises(PermanentError, match="no confirmation"):
        parse_mail_text(text)
    own = TextPatterns(
        reference=r"Auftrag\s+(?P<value>\S+)", tracking=r"Paketschein-ID\s+(?P<value>\S+)"
    )
    assert _pairs(parse_mail_text(text, own)) == [("WH/OUT/00042", "PS-77812345")]


def test_mail_without_text_part_has_empty_text():
    message = EmailMessage()
    message["Subject"] = "Label"
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="l.pdf")
    assert mail_text(message) == ""
    with pytest.raises(PermanentError, match="no confirmation"):
        parse_mail_text(mail_text(message))


def test_mail_text_needs_the_modern_policy():
    with pytest.raises(TypeError):
        mail_text(email.message_from_bytes(b"Subject: x\n\nbody"))


# --------------------------------------------------------------------------- notices


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lieferschein: WH/OUT/1\nSendungsnummer: 123456789", [("WH/OUT/1", "123456789")]),
        ("Lieferschein-Nr. WH/OUT/1\nPaketnummer 123456789", [("WH/OUT/1", "123456789")]),
        (
            "Ihre Referenz: WH/OUT/7\nTrackingnummer: 00340434161234567890",
            [("WH/OUT/7", "00340434161234567890")],
        ),
        (
            "Ref: WH/OUT/2\nTracking number: 1Z999AA10123456784",
            [("WH/OUT/2", "1Z999AA10123456784")],
        ),
        (
            "Your delivery WH/OUT/3 has been shipped. Tracking no. JJD0001234567",
            [("WH/OUT/3", "JJD0001234567")],
        ),
        (
            "Reference WH/OUT/4\nTracking number for your parcel: 1Z999AA10123456784",
            [("WH/OUT/4", "1Z999AA10123456784")],
        ),
        (
            "Tracking number: 1Z999AA10123456784\nRef: WH/OUT/5",  # the only reference
            [("WH/OUT/5", "1Z999AA10123456784")],
        ),
        (
            "Sendungsnummern: 111111111 und 222222222; 333333333 (DHL Paket)\nLieferung WH/OUT/6",
            [("WH/OUT/6", "111111111,222222222,333333333")],
        ),
        ("LIEFERSCHEIN = WH/OUT/8\nSENDUNGSNUMMER # 444444444", [("WH/OUT/8", "444444444")]),
    ],
)
def test_notice_wordings(text, expected):
    assert _pairs(parse_mail_text(text)) == expected


def test_several_deliveries_in_one_mail_keep_their_own_numbers():
    text = (
        "Lieferschein: WH/OUT/00012\nSendungsnummer: 00340434161234567890\n\n"
        "Lieferschein: WH/OUT/00013\nSendungsnummer: 00340434161234567891\n"
        "Sendungsnummer: 00340434161234567892\n"
    )
    assert _pairs(parse_mail_text(text)) == [
        ("WH/OUT/00012", "00340434161234567890"),
        ("WH/OUT/00013", "00340434161234567891,00340434161234567892"),
    ]


def test_reference_without_tracking_number_is_rejected_not_confirmed():
    batch = parse_mail_text("Ref WH/OUT/0001 cannot be shipped, the item is damaged.")
    assert batch.confirmations == ()
    assert batch.rejections[0].reference == "WH/OUT/0001"
    assert "no tracking number" in batch.rejections[0].reason


def test_tracking_before_the_first_of_several_references_is_rejected():
    text = (
        "Sendungsnummer: 123456789\nLieferschein: WH/OUT/1\nSendungsnummer: 987654321\n"
        "Lieferschein: WH/OUT/2\nSendungsnummer: 555555555"
    )
    batch = parse_mail_text(text)
    assert _pairs(batch) == [("WH/OUT/1", "987654321"), ("WH/OUT/2", "555555555")]
    assert [r.row for r in batch.rejections] == [1]
    assert "before any reference" in batch.rejections[0].reason


def test_tracking_numbers_without_reference_say_so():
    with pytest.raises(PermanentError, match="123456789 found, but no delivery reference"):
        parse_mail_text("Tracking number: 123456789")


def test_quoted_lines_of_a_reply_are_ignored():
    text = "Danke!\n\n> Lieferschein: WH/OUT/9\n> Sendungsnummer: 123456789\n"
    with pytest.raises(PermanentError):
        parse_mail_text(text)


def test_prose_mentioning_delivery_without_a_number_is_no_reference():
    with pytest.raises(PermanentError):
        parse_mail_text("Your delivery has been shipped.\nThank you for the delivery reference.")


def test_known_references_reject_the_others():
    text = "Ref: WH/OUT/1\nTracking: 123456789\nRef: WH/OUT/2\nTracking: 987654321"
    batch = parse_mail_text(text, known_references={"WH/OUT/1"})
    assert _pairs(batch) == [("WH/OUT/1", "123456789")]
    assert batch.rejections[0].reason == "unknown reference WH/OUT/2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00340434161234567890", ["00340434161234567890"]),
        (
            "111111, 222222;333333 und 444444 and 555555",
            ["111111", "222222", "333333", "444444", "555555"],
        ),
        ("1Z999AA10123456784 (UPS Standard)", ["1Z999AA10123456784"]),
        ("JJD-000-123 shipped 20261120", ["JJD-000-123"]),
        ("see link", []),
        ("12345", []),  # too short
        ("ABCDEFGH", []),  # no digit
        ("111111, 111111", ["111111"]),
    ],
)
def test_tracking_number_tokens(value, expected):
    assert tracking_numbers(value) == expected


# --------------------------------------------------------------------------- inline files


def test_inline_xml_is_read_with_the_file_rules():
    text = (
        "Anbei die Meldung:\n<Confirmations><Confirmation reference='WH/OUT/1'>"
        "<TrackingNumber>T-1</TrackingNumber><Line sku='SKU-1' quantity='2'/>"
        "</Confirmation></Confirmations>\nGruß"
    )
    batch = parse_mail_text(text)
    assert batch.confirmations[0].lines[0][0] == "SKU-1"
    assert batch.confirmations[0].tracking_ref == "T-1"


def test_inline_xml_with_doctype_is_refused():
    text = (
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        "<Confirmations><Confirmation reference='&e;'/></Confirmations>"
    )
    with pytest.raises(PermanentError, match="DOCTYPE"):
        parse_mail_text(text)


def test_inline_csv_with_the_profile_columns():
    mapping = CsvMapping(reference="Lieferschein", tracking_ref="Sendungsnummer")
    text = "Hallo\n\nLieferschein,Sendungsnummer\nWH/OUT/1,T-1\nWH/OUT/2,T-2\n\nGruß"
    batch = parse_mail_text(text, mapping=mapping)
    assert _pairs(batch) == [("WH/OUT/1", "T-1"), ("WH/OUT/2", "T-2")]


def test_inline_csv_with_lines_keeps_quantities():
    text = "reference;tracking_number;sku;quantity\nWH/OUT/1;T-1;SKU-1;1\n"
    batch = parse_mail_text(text)
    assert batch.confirmations[0].lines == (("SKU-1", 1),)


# --------------------------------------------------------------------------- html, patterns


def test_html_to_text_keeps_lines_and_decodes_entities():
    html = (
        "<div><b>Sendungsnummer:</b>&nbsp;0034 <br/>Lieferschein: <a href='x'>WH/OUT/1</a>"
        "</div><script>alert(1)</script><table><tr><td>a</td><td>b</td></tr></table>"
    )
    assert html_to_text(html) == "Sendungsnummer: 0034\nLieferschein: WH/OUT/1\n\na b"


@pytest.mark.parametrize("pattern", ["(", "x*", "(?P<value>a|)"])
def test_unusable_patterns_are_refused(pattern):
    with pytest.raises(ValueError):
        check_pattern(pattern)


def test_pattern_without_group_uses_the_whole_match():
    own = TextPatterns(reference=r"WH/OUT/\d+", tracking=r"(?<=Paket )\S+")
    assert _pairs(parse_mail_text("WH/OUT/77 Paket 123456789", own)) == [("WH/OUT/77", "123456789")]


def test_nul_and_huge_texts_are_refused():
    with pytest.raises(PermanentError):
        parse_mail_text("Ref WH/OUT/1\x00")
    with pytest.raises(PermanentError, match="too long"):
        parse_mail_text("x" * 1_000_001)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_batch_or_a_reason(text):
    try:
        batch = parse_mail_text(text)
    except PermanentError as exc:
        assert str(exc)
    else:
        assert batch.confirmations or batch.rejections
        for confirmation in batch.confirmations:
            assert confirmation.reference and confirmation.tracking_ref


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"WH/OUT/[0-9]{1,6}", fullmatch=True),
    st.lists(
        st.from_regex(r"[A-Z0-9]{6,30}", fullmatch=True).filter(
            lambda t: any(c.isdigit() for c in t)
        ),
        min_size=1,
        max_size=4,
        unique=True,
    ),
)
def test_a_generated_notice_round_trips(reference, numbers):
    text = f"Lieferschein: {reference}\nSendungsnummer: {', '.join(numbers)}\n"
    assert _pairs(parse_mail_text(text)) == [(reference, ",".join(numbers))]
