import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.order_reference import (
    MAX_BODY_CHARS,
    MAX_CANDIDATES,
    MAX_SUBJECT_CHARS,
    extract_order_references,
    html_to_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lieferung für Bestellung 1042 verspätet", ("1042",)),
        ("Ihre Bestellung #100234 bei Teeladen", ("100234",)),
        ("AW: Bestellung S00042", ("S00042",)),
        ("Meine Bestellnummer: 100234, bitte prüfen", ("100234",)),
        ("Bestell-Nr. 100234", ("100234",)),
        ("Bestellnr.: 4711-2", ("4711-2",)),
        ("zur Bestellung Nr. 100234 fehlt ein Teil", ("100234",)),
        ("Auftragsnummer 2026/0042", ("2026/0042",)),
        ("Auftrag Nr. 55123", ("55123",)),
        ("Auftrags-Nr.: A-55123", ("A-55123",)),
        ("Your order number: #100234 has not arrived", ("100234",)),
        ("Order No. 100234.", ("100234",)),
        ("order #100234", ("100234",)),
        ("Order-ID: 100234", ("100234",)),
        ("ich habe s00042 bestellt", ("S00042",)),
        ("Amazon order 302-1234567-7654321", ("302-1234567-7654321",)),
    ],
)
def test_order_words_and_odoo_names_are_found(text, expected):
    assert extract_order_references(text, "") == expected
    assert extract_order_references("", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Rechnung 1042",  # an invoice is no order
        "Rechnungsnummer RE-2026-1042",
        "[#C-00042] Frage zur Lieferung",  # our case token
        "order #C-00042",
        "Bestellung vom 12.03.2026 über 59,90 €",
        "Bestellung 12.03.2026",
        "Bestellung 12/03/2026",
        "Bestellung 2026-03-12",
        "Bestellung: 59,90 EUR",
        "order 1.234,50 EUR",
        "Auftrag 0171 1234567",  # a phone number
        "Bitte rufen Sie mich an: +49 171 1234567",
        "Lieferadresse: Hauptstr. 5, 10115 Berlin",
        "Bestellungen 1042",
        "reorder 1042",
        "order at 10:30",
        "order 12 mugs",  # a quantity
        "Ich bestelle gern wieder",
        "",
    ],
)
def test_false_positives_are_no_candidates(text):
    assert extract_order_references(text, text) == ()


def test_subject_first_then_body_without_repeats():
    refs = extract_order_references(
        "Bestellung 100234", "Zu Bestellung 100234 und S00042, siehe auch Auftrag 55123"
    )
    assert refs == ("100234", "S00042", "55123")


def test_at_most_the_first_candidates_are_returned():
    body = " ".join(f"Bestellung {100000 + n}" for n in range(50))
    refs = extract_order_references("", body)
    assert refs == tuple(str(100000 + n) for n in range(MAX_CANDIDATES))


def test_body_is_read_up_to_a_few_kilobytes_only():
    filler = "x " * MAX_BODY_CHARS
    assert extract_order_references("", filler + "Bestellung 100234") == ()
    assert extract_order_references("Bestellung 100234", filler) == ("100234",)


def test_subject_is_read_up_to_its_limit():
    assert extract_order_references("x" * MAX_SUBJECT_CHARS + " Bestellung 100234", "") == ()


def test_html_body_becomes_text_without_styles():
    body = (
        "<html><head><style>p.order-12345 {color: red}</style></head>"
        "<body><p>Bestellung&nbsp;<b>#100234</b></p></body></html>"
    )
    text = html_to_text(body)
    assert "color" not in text
    assert extract_order_references("", text) == ("100234",)


def test_unclosed_style_block_ends_the_text():
    text = html_to_text("<p>Bestellung 100234</p><style>p {x: 1} Bestellung 100235")
    assert extract_order_references("", text) == ("100234",)


@pytest.mark.parametrize("junk", ["<", "<style", "&", "<a ", "Bestellung # "])
def test_hostile_html_gives_text_of_bounded_size(junk):
    text = html_to_text(junk * 50_000 + "Bestellung 100234")
    assert len(text) <= MAX_BODY_CHARS
    assert extract_order_references("", text) == ()


def test_html_is_read_up_to_its_limit():
    assert len(html_to_text("<p>" + "a" * 100_000 + "</p>")) == MAX_BODY_CHARS


@given(st.text(max_size=600), st.text(max_size=2000))
def test_any_text_gives_few_candidates_holding_digits(subject, body):
    refs = extract_order_references(subject, body)
    assert len(refs) <= MAX_CANDIDATES
    assert len(set(refs)) == len(refs)
    for ref in refs:
        assert sum(char.isdigit() for char in ref) >= 3
        assert ref in subject + body or ref.lower() in (subject + body).lower()
