"""Delivery XML: golden documents, schema validation, carrier mappings."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shipping_exchange.services.delivery_xml import (
    GENERIC_XSD,
    Delivery,
    DeliveryLine,
    Parcel,
    Recipient,
    XmlMapping,
    build_batch_xml,
    build_delivery_xml,
    load_schema,
    schema_violations,
    validate_xml,
)

from ..conftest import DATA_DIR

GOLDEN = DATA_DIR / "shipping"


def sample_delivery(**overrides) -> Delivery:
    """A German delivery to a Packstation with cash on delivery (golden file input)."""
    values = {
        "reference": "WH/OUT/00001",
        "order_reference": "S00042",
        "recipient": Recipient(
            name="Jörg Müller",
            street="Packstation 123",
            zip="10115",
            city="Berlin",
            country="DE",
            email="joerg@example.com",
            phone="+49 30 1234567",
            packstation=True,
            post_number="123456789",
        ),
        "lines": (
            DeliveryLine(
                "MUG-01", "Tasse „Grün“ & Co <groß>", Decimal(2), Decimal("0.350"), "4006381333931"
            ),
            DeliveryLine("TEA-05", "Tee 100 g", Decimal("1.5"), Decimal("0.1")),
        ),
        "parcels": (Parcel("P1", Decimal("1.2")),),
        "services": ("SIGNATURE",),
        "cod_amount": Decimal("49.9"),
        "cod_currency": "EUR",
        "shipping_date": date(2026, 11, 20),
        "note": "Bitte nicht knicken",
    }
    return Delivery(**(values | overrides))


def plain_delivery(reference: str) -> Delivery:
    return Delivery(
        reference,
        "S1",
        Recipient("Anna Schmidt", "Hauptstr. 1", "80331", "München", "DE"),
        (DeliveryLine("SKU-1", "Buch", Decimal(1), Decimal("0.5")),),
    )


def test_single_delivery_matches_the_golden_file():
    payload = build_delivery_xml(sample_delivery(), "ACME")
    assert payload == (GOLDEN / "delivery_single.xml").read_bytes()
    assert payload.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    validate_xml(payload)


def test_batch_matches_the_golden_file_and_is_valid():
    payload = build_batch_xml([sample_delivery(), plain_delivery("WH/OUT/00002")], "ACME")
    assert payload == (GOLDEN / "delivery_batch.xml").read_bytes()
    validate_xml(payload, GENERIC_XSD)
    root = etree.fromstring(payload)
    assert root.xpath("Delivery/@reference") == ["WH/OUT/00001", "WH/OUT/00002"]


def test_text_is_escaped_not_interpreted():
    payload = build_delivery_xml(sample_delivery(), "ACME")
    names = etree.fromstring(payload).xpath("//Line/Name/text()")
    assert names[0] == "Tasse „Grün“ & Co <groß>"


def test_embedded_pdf_is_base64_and_valid():
    payload = build_delivery_xml(sample_delivery(), "ACME", embedded_pdf=b"%PDF-1.4 x")
    validate_xml(payload)
    assert etree.fromstring(payload).findtext("Delivery/DeliveryNotePdf") == "JVBERi0xLjQgeA=="


def test_company_and_second_street_line_in_schema_order():
    recipient = Recipient(
        "Anna Schmidt",
        "Hauptstr. 1",
        "80331",
        "München",
        "DE",
        company="Buchhandlung Schmidt GmbH",
        street2="Hinterhaus, 2. OG",
    )
    delivery = dataclasses.replace(plain_delivery("WH/OUT/00003"), recipient=recipient)
    payload = build_delivery_xml(delivery, "ACME")
    validate_xml(payload)
    node = etree.fromstring(payload).find("Delivery/Recipient")
    assert [(child.tag, child.text) for child in node] == [
        ("Name", "Anna Schmidt"),
        ("Company", "Buchhandlung Schmidt GmbH"),
        ("Street", "Hauptstr. 1"),
        ("Street2", "Hinterhaus, 2. OG"),
        ("Zip", "80331"),
        ("City", "München"),
        ("Country", "DE"),
    ]


def _replace(delivery, **recipient):
    return dataclasses.replace(
        delivery, recipient=dataclasses.replace(delivery.recipient, **recipient)
    )


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        (sample_delivery(reference=" "), "reference is empty"),
        (sample_delivery(lines=()), "no lines"),
        (_replace(sample_delivery(), zip=""), "recipient zip is empty"),
        (_replace(sample_delivery(), country="Germany"), "not an ISO code"),
        (_replace(sample_delivery(), post_number=""), "post number"),
        (sample_delivery(cod_currency=""), "needs a currency"),
        (sample_delivery(cod_amount=Decimal(0)), "amount must be > 0"),
        (
            sample_delivery(lines=(DeliveryLine("A", "a", Decimal(0)),)),
            "quantity of A must be > 0",
        ),
        (sample_delivery(lines=(DeliveryLine(" ", "a", Decimal(1)),)), "no SKU"),
        (sample_delivery(parcels=(Parcel("P1", Decimal(0)),)), "parcel P1 weight"),
        (_replace(sample_delivery(), name="Null\x00Byte"), "Name"),
    ],
)
def test_data_the_carrier_cannot_use_is_a_permanent_error(delivery, message):
    with pytest.raises(PermanentError, match=message):
        build_delivery_xml(delivery, "ACME")


def test_empty_and_duplicate_batches_are_refused():
    with pytest.raises(PermanentError, match="no delivery"):
        build_batch_xml([], "ACME")
    with pytest.raises(PermanentError, match="twice"):
        build_batch_xml([plain_delivery("A"), plain_delivery("A")], "ACME")
    with pytest.raises(PermanentError, match="shipper"):
        build_batch_xml([plain_delivery("A")], " ")


def test_schema_violation_names_path_and_reason():
    payload = build_delivery_xml(sample_delivery(), "ACME").replace(
        b"<Quantity>2</Quantity>", b"<Quantity>-2</Quantity>"
    )
    with pytest.raises(PermanentError) as caught:
        validate_xml(payload)
    assert str(caught.value).startswith("/DeliveryOrders/Delivery/Lines/Line[1]/Quantity: ")
    assert "greater than" in str(caught.value)


def test_several_violations_are_reported_up_to_a_limit():
    payload = build_batch_xml([plain_delivery(f"R{i}") for i in range(10)], "ACME")
    payload = payload.replace(b"<Country>DE</Country>", b"<Country>de</Country>")
    violations = schema_violations(payload, load_schema())
    assert len(violations) == 5
    assert all(v.path.endswith("/Recipient/Country") for v in violations)


def test_duplicate_references_violate_the_schema():
    payload = build_batch_xml([plain_delivery("A"), plain_delivery("B")], "ACME")
    with pytest.raises(PermanentError, match=r"(?i)duplicate|unique"):
        validate_xml(payload.replace(b'reference="B"', b'reference="A"'))


def test_malformed_xml_is_a_permanent_error():
    with pytest.raises(PermanentError, match="not well-formed"):
        validate_xml(b"<DeliveryOrders>")


def test_the_schema_is_built_once():
    assert load_schema() is load_schema(str(GENERIC_XSD))


def test_a_broken_or_missing_schema_is_a_permanent_error(tmp_path):
    broken = tmp_path / "broken.xsd"
    broken.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element/>")
    with pytest.raises(PermanentError, match="cannot be loaded"):
        load_schema(broken)
    with pytest.raises(PermanentError, match="cannot be read"):
        load_schema(tmp_path / "missing.xsd")


def test_a_schema_may_not_fetch_from_the_network(tmp_path):
    xsd = tmp_path / "remote.xsd"
    xsd.write_text(
        "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>"
        "<xs:include schemaLocation='http://example.invalid/evil.xsd'/>"
        "<xs:element name='X'/></xs:schema>"
    )
    with pytest.raises(PermanentError, match="cannot be loaded"):
        load_schema(xsd)


# ---------------------------------------------------------------- carrier mappings

MAPPING = XmlMapping(
    values=(
        ("Recipient/Street", "{recipient_street} (PS)"),
        ("Extra/Customer", "{shipper}-{order_reference}"),
        ("Extra/Weight", "{total_weight_kg}"),
        ("Note", ""),
    ),
    renames=(("Zip", "PLZ"), ("City", "Ort"), ("Delivery", "Auftrag")),
)


def test_mapping_matches_the_golden_file_and_the_carrier_schema():
    payload = build_delivery_xml(sample_delivery(), "ACME", MAPPING)
    assert payload == (GOLDEN / "delivery_mapped.xml").read_bytes()
    validate_xml(payload, GOLDEN / "carrier_mapped.xsd")
    with pytest.raises(PermanentError):
        validate_xml(payload)  # no longer the generic format


def test_mapping_from_a_json_like_dict():
    mapping = XmlMapping.from_dict(
        {"values": {"Extra/Customer": "{shipper}-{order_reference}"}, "renames": {"Zip": "PLZ"}}
    )
    root = etree.fromstring(build_delivery_xml(sample_delivery(), "ACME", mapping))
    assert root.findtext("Delivery/Extra/Customer") == "ACME-S00042"
    assert root.findtext("Delivery/Recipient/PLZ") == "10115"
    with pytest.raises(PermanentError, match="unknown keys"):
        XmlMapping.from_dict({"value": {}})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (XmlMapping(values=(("Extra/X", "{recipient.__class__}"),)), "unknown placeholder"),
        (XmlMapping(values=(("Extra/X", "{password}"),)), "unknown placeholder"),
        (XmlMapping(values=(("../X", "a"),)), "invalid path"),
        (XmlMapping(values=(("", "a"),)), "invalid path"),
        (XmlMapping(renames=(("Zip", "P L Z"),)), "invalid rename"),
    ],
)
def test_bad_mappings_are_refused_before_building(mapping, message):
    with pytest.raises(PermanentError, match=message):
        build_delivery_xml(sample_delivery(), "ACME", mapping)


# ---------------------------------------------------------------- property

xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    name=xml_text,
    city=xml_text,
    sku=xml_text,
    qty=st.decimals(min_value=-5, max_value=10**6, places=3),
)
def test_any_input_is_either_valid_xml_or_a_permanent_error(name, city, sku, qty):
    delivery = dataclasses.replace(
        _replace(plain_delivery("R1"), name=name, city=city),
        lines=(DeliveryLine(sku, "x", qty, Decimal("0.1")),),
    )
    try:
        payload = build_delivery_xml(delivery, "ACME")
    except PermanentError:
        return
    root = etree.fromstring(payload)
    assert root.findtext("Delivery/Recipient/Name") == name
    assert root.findtext("Delivery/Lines/Line/Sku") == sku
    validate_xml(payload)
