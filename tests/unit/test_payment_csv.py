"""Bank CSV import with a saved mapping: German exports, per-row errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.services.bank_csv import CsvMapping, parse_amount, parse_bank_csv

from ..conftest import DATA_DIR

ACCOUNT = "DE02120300000000202051"
SPARKASSE = CsvMapping(
    columns={
        "booking_date": "Buchungstag",
        "value_date": "Valutadatum",
        "counterparty_name": "Auftraggeber / Begünstigter",
        "counterparty_iban": "IBAN",
        "purpose": "Verwendungszweck",
        "end_to_end_id": "Kundenreferenz (End-to-End)",
        "amount": "Betrag (EUR)",
        "currency": "Währung",
    }
)


def _sparkasse() -> bytes:
    return (DATA_DIR / "payments" / "sparkasse_umsaetze.csv").read_bytes()


def test_german_export_with_preamble():
    result = parse_bank_csv(_sparkasse(), SPARKASSE, ACCOUNT)
    first = result.transactions[0]
    assert first.amount == Decimal("1234.56")
    assert first.counterparty_name == "Müller, Hans-Jürgen"  # cp1252 decoded
    assert first.counterparty_iban == "DE89370400440532013000"  # spaces removed
    assert first.booking_date == first.value_date == date(2026, 3, 2)
    assert first.end_to_end_id == ""
    assert first.raw.startswith("02.03.2026;02.03.2026;Müller")
    assert [t.amount for t in result.transactions] == [
        Decimal("1234.56"),
        Decimal("-42.66"),
        Decimal("-3.20"),
        Decimal("-3.20"),
        Decimal("59.95"),
    ]


def test_bad_rows_are_reported_with_their_line():
    result = parse_bank_csv(_sparkasse(), SPARKASSE, ACCOUNT)
    assert [(e.line, e.message) for e in result.errors] == [
        (9, "booking date '31.02.2026' does not match %d.%m.%Y"),
        (10, "not an amount: 'zehn'"),
    ]


def test_identical_rows_get_distinct_stable_keys():
    keys = [t.key for t in parse_bank_csv(_sparkasse(), SPARKASSE, ACCOUNT).transactions]
    assert len(set(keys)) == len(keys)
    assert keys[3] == keys[2] + "#2"
    assert keys == [t.key for t in parse_bank_csv(_sparkasse(), SPARKASSE, ACCOUNT).transactions]


def test_debit_and_credit_columns_and_entry_reference():
    data = (
        b"Datum,Soll,Haben,Ref,Text\n"
        b"2026-03-02,,1,234.50,R1,Order SO-1\n"
        b'2026-03-03,"1,000.00",,R2,Refund\n'
        b"2026-03-03,5.00,5.00,R3,both\n"
    )
    mapping = CsvMapping(
        delimiter=",",
        encoding="utf-8",
        date_format="%Y-%m-%d",
        decimal_comma=False,
        columns={
            "booking_date": "Datum",
            "debit": "Soll",
            "credit": "Haben",
            "entry_reference": "Ref",
            "purpose": "Text",
        },
    )
    result = parse_bank_csv(data, mapping, ACCOUNT)
    # line 2 has an unquoted thousands separator: the columns shift, the row is refused
    assert [t.amount for t in result.transactions] == [Decimal("-1000.00")]
    assert result.transactions[0].key == f"bank:{ACCOUNT}:R2"
    assert [e.line for e in result.errors] == [2, 4]
    assert "exactly one of debit and credit" in result.errors[1].message


def test_each_unreadable_row_names_its_reason():
    data = (
        "Tag;Betrag;Währung\n"
        "02.03.2026;10,00;EUR\n"
        "02.03.2026;10,00\n"
        ";10,00;EUR\n"
        "02.03.2026;;EUR\n"
        "02.03.2026;0,00;EUR\n"
        "02.03.2026;5,00;Euro\n"
        "\n"
        " ; ;\n"  # blank rows are skipped, not errors
    ).encode()
    mapping = CsvMapping(
        encoding="utf-8",
        columns={"booking_date": "Tag", "amount": "Betrag", "currency": "Währung"},
    )
    result = parse_bank_csv(data, mapping, ACCOUNT)
    assert [t.amount for t in result.transactions] == [Decimal("10.00")]
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "row has 2 columns, the header 3: check the delimiter and quoting"),
        (4, "booking date is empty"),
        (5, "amount is empty"),
        (6, "amount is zero"),
        (7, "currency 'EURO' is not an ISO code"),
    ]


def test_purpose_from_several_columns():
    data = "Tag;Betrag;VZ1;VZ2\n01.03.2026;5,00;SO-00;4711\n".encode("cp1252")
    mapping = CsvMapping(
        columns={"booking_date": "Tag", "amount": "Betrag", "purpose": "VZ1 + VZ2"}
    )
    (txn,) = parse_bank_csv(data, mapping, ACCOUNT).transactions
    assert txn.purpose == "SO-00 4711"


def test_wrong_encoding_is_a_clear_error():
    mapping = CsvMapping(encoding="utf-8", columns=SPARKASSE.columns)
    with pytest.raises(PermanentError, match="not utf-8"):
        parse_bank_csv(_sparkasse(), mapping, ACCOUNT)


def test_missing_header_is_a_clear_error():
    mapping = CsvMapping(columns={**SPARKASSE.columns, "purpose": "Zweck"})
    with pytest.raises(PermanentError, match=r"header not found.*Zweck"):
        parse_bank_csv(_sparkasse(), mapping, ACCOUNT)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"amount": "Betrag"}, "booking_date"),
        ({"booking_date": "Tag"}, "amount column"),
        ({"booking_date": "Tag", "amount": "B", "colour": "x"}, "unknown fields: colour"),
    ],
)
def test_incomplete_mapping_is_refused(columns, message):
    with pytest.raises(PermanentError, match=message):
        CsvMapping(columns=columns)


@pytest.mark.parametrize(
    ("text", "comma", "expected"),
    [
        ("1.234,56", True, "1234.56"),
        ("-1.234,56", True, "-1234.56"),
        ("1.234,56-", True, "-1234.56"),
        ("+12,5", True, "12.5"),
        ("12,50 EUR", True, "12.50"),
        ("1\u00a0234,56", True, "1234.56"),
        ("1,234.56", False, "1234.56"),
        ("-0.99", False, "-0.99"),
    ],
)
def test_amounts(text, comma, expected):
    assert parse_amount(text, comma) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12..5", "--1", "1e5"])
def test_bad_amounts(text):
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount(text, True)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_german_amount_round_trip(value):
    text = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert parse_amount(text, True) == value
