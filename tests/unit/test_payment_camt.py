"""CAMT.053 import: both versions, batches, hostile and broken files refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.services import camt
from shopaddons.shop_connector.services.camt import parse_camt053

from ..conftest import DATA_DIR

PAYMENTS = DATA_DIR / "payments"


def _read(name: str) -> bytes:
    return (PAYMENTS / name).read_bytes()


def test_version_02_statement():
    (statement,) = parse_camt053(_read("camt053_v02_sparkasse.xml"))
    assert statement.account_iban == "DE02120300000000202051"
    assert statement.currency == "EUR"
    first, batch_a, batch_b, refund = statement.transactions
    assert first.key == "bank:DE02120300000000202051:2026030200012345"
    assert first.amount == Decimal("119.90")
    assert first.counterparty_name == "Müller, Hans-Jürgen"
    assert first.counterparty_iban == "DE89370400440532013000"
    assert first.purpose == "Bestellung SO-004711 Danke"
    assert first.end_to_end_id == ""  # NOTPROVIDED is no reference
    assert first.booking_date == first.value_date == date(2026, 3, 2)
    assert first.kind == "payment"
    # a batch entry with two TxDtls is two transactions with their own amounts
    assert [batch_a.key, batch_b.key] == [
        "bank:DE02120300000000202051:2026030200012346/1",
        "bank:DE02120300000000202051:2026030200012346/2",
    ]
    assert (batch_a.amount, batch_b.amount) == (Decimal("120.00"), Decimal("180.00"))
    assert batch_a.purpose == "RF18539007547034"  # structured creditor reference
    assert batch_b.purpose == "RE 2026/0815"
    assert batch_a.end_to_end_id == "E2E-77-1"
    # outgoing: negative, counterparty is the creditor, key hashed (no AcctSvcrRef)
    assert refund.amount == Decimal("-42.66")
    assert refund.counterparty_name == "Jan Kowalski"
    assert refund.key.startswith("bank:DE02120300000000202051:sha256:")


def test_version_08_statement():
    (statement,) = parse_camt053(_read("camt053_v08_bank.xml"))
    assert statement.account_iban == "DE02500105170137075030"
    payment, fee, reversal = statement.transactions
    assert payment.counterparty_name == "Sophie Schäfer"  # 08: Dbtr/Pty/Nm
    assert payment.purpose == "SO 004712 Kundennr 10077"  # several Ustrd joined
    assert payment.amount == Decimal("59.95")
    assert payment.end_to_end_id == "SHOP-4712"
    assert (fee.kind, fee.amount, fee.purpose) == (
        "fee",
        Decimal("-7.50"),
        "Kontofuehrungsgebuehr Februar",
    )
    assert fee.booking_date == date(2026, 3, 4)  # from BookgDt/DtTm
    assert (reversal.kind, reversal.amount) == ("reversal", Decimal("-59.95"))


def test_keys_are_stable_across_imports_and_unique():
    once = parse_camt053(_read("camt053_v02_sparkasse.xml"))[0].transactions
    again = parse_camt053(_read("camt053_v02_sparkasse.xml"))[0].transactions
    assert [t.key for t in once] == [t.key for t in again]
    assert len({t.key for t in once}) == len(once)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("camt053_xxe.xml", "DOCTYPE"),
        ("camt053_billion_laughs.xml", "DOCTYPE"),
        ("camt053_malformed.xml", "not well-formed"),
        ("camt053_invalid_schema.xml", r"violates the camt\.053\.001\.02 schema"),
    ],
)
def test_hostile_and_broken_files_are_refused(name, message):
    with pytest.raises(PermanentError, match=message):
        parse_camt053(_read(name))


def test_xxe_is_refused_even_in_utf16():
    data = _read("camt053_xxe.xml").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    with pytest.raises(PermanentError, match="DOCTYPE"):
        parse_camt053(data.encode("utf-16"))


def test_secret_file_content_never_appears(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    data = _read("camt053_xxe.xml").replace(b"file:///etc/passwd", secret.as_uri().encode())
    with pytest.raises(PermanentError) as info:
        parse_camt053(data)
    assert "TOPSECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<Document xmlns='urn:example'/>", "namespace"),
        (b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:"
         b"camt.054.001.02'/>", "not a supported"),
    ],
)  # fmt: skip
def test_other_documents_are_refused(data, message):
    with pytest.raises(PermanentError, match=message):
        parse_camt053(data)


def test_batch_details_must_add_up():
    data = _read("camt053_v02_sparkasse.xml").replace(
        b'<TxAmt><Amt Ccy="EUR">180.00</Amt>', b'<TxAmt><Amt Ccy="EUR">170.00</Amt>'
    )
    with pytest.raises(PermanentError, match=r"details sum to 290\.00"):
        parse_camt053(data)


def test_batch_without_detail_amounts_is_one_movement():
    data = (
        _read("camt053_v02_sparkasse.xml")
        .replace(b'<AmtDtls><TxAmt><Amt Ccy="EUR">120.00</Amt></TxAmt></AmtDtls>', b"")
        .replace(b'<AmtDtls><TxAmt><Amt Ccy="EUR">180.00</Amt></TxAmt></AmtDtls>', b"")
    )
    transactions = parse_camt053(data)[0].transactions
    batch = transactions[1]
    assert batch.amount == Decimal("300.00")
    assert batch.key == "bank:DE02120300000000202051:2026030200012346"
    assert batch.purpose == "RF18539007547034 / RE 2026/0815"
    assert len(transactions) == 3


def test_pending_entries_are_reported_not_booked():
    data = _read("camt053_v08_bank.xml").replace(
        b"<Sts><Cd>BOOK</Cd></Sts>\n        <BookgDt><DtTm>",
        b"<Sts><Cd>PDNG</Cd></Sts>\n        <BookgDt><DtTm>",
    )
    (statement,) = parse_camt053(data)
    assert [t.kind for t in statement.transactions] == ["payment", "reversal"]
    assert statement.skipped == ("entry 2 (PDNG, 7.50): not booked",)


_XML_TEXT = st.text(
    alphabet=st.characters(
        min_codepoint=0x20, max_codepoint=0x2FFF, blacklist_categories=("Cs", "Cc")
    ),
    min_size=1,
    max_size=140,
).filter(lambda t: t.strip())


@settings(max_examples=60, deadline=None)
@given(
    name=_XML_TEXT,
    purpose=_XML_TEXT,
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999"), places=2),
)
def test_any_valid_entry_round_trips(name, purpose, amount):
    data = (
        _read("camt053_v08_bank.xml")
        .replace(b"Sophie Sch\xc3\xa4fer", escape(name).encode())
        .replace(b"<Ustrd>Kundennr 10077</Ustrd>", b"")
        .replace(b"SO 004712", escape(purpose).encode())
        .replace(b"59.95", str(amount).encode())
    )
    payment = parse_camt053(data)[0].transactions[0]
    assert payment.counterparty_name == name.strip()
    assert payment.purpose == purpose.strip()
    assert payment.amount == amount


def test_entry_without_any_date_is_refused():
    data = _read("camt053_v02_sparkasse.xml").replace(
        b"        <BookgDt><Dt>2026-03-02</Dt></BookgDt>\n"
        b"        <ValDt><Dt>2026-03-02</Dt></ValDt>\n"
        b"        <AcctSvcrRef>2026030200012345</AcctSvcrRef>",
        b"        <AcctSvcrRef>2026030200012345</AcctSvcrRef>",
    )
    with pytest.raises(PermanentError, match=r"entry 1: entry has neither a booking nor a value"):
        parse_camt053(data)


def test_entry_without_booking_date_is_booked_on_its_value_date():
    data = _read("camt053_v02_sparkasse.xml").replace(
        b"        <BookgDt><Dt>2026-03-02</Dt></BookgDt>\n"
        b"        <ValDt><Dt>2026-03-02</Dt></ValDt>\n"
        b"        <AcctSvcrRef>2026030200012345</AcctSvcrRef>",
        b"        <ValDt><Dt>2026-03-04</Dt></ValDt>\n"
        b"        <AcctSvcrRef>2026030200012345</AcctSvcrRef>",
    )
    first = parse_camt053(data)[0].transactions[0]
    assert first.booking_date == first.value_date == date(2026, 3, 4)


def test_entry_without_amount_is_refused():
    # the schema requires Amt, so only an entry read past the validation lacks it
    ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}
    entry = etree.fromstring(
        b'<Ntry xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        b"<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>"
    )
    with pytest.raises(PermanentError, match="entry has no amount"):
        camt._entry(entry, "DE02120300000000202051", ns)
