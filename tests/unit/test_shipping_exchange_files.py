"""Which files a profile sends: xml, pdf, xml_pdf (two files or embedded)."""

import base64

import pytest
from lxml import etree

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shipping_exchange.services.delivery_pdf import build_delivery_pdf
from shopaddons.shipping_exchange.services.delivery_xml import XmlMapping
from shopaddons.shipping_exchange.services.exchange_files import (
    build_exchange_files,
    file_stem,
)

from .test_shipping_delivery_xml import GOLDEN, plain_delivery, sample_delivery


def test_xml_only():
    [xml] = build_exchange_files([sample_delivery()], "xml", "ACME")
    assert xml.name == "WH-OUT-00001.xml"
    assert xml.content == (GOLDEN / "delivery_single.xml").read_bytes()


def test_pdf_only():
    [pdf] = build_exchange_files([sample_delivery()], "pdf", "ACME")
    assert pdf.name == "WH-OUT-00001.pdf"
    assert pdf.content == build_delivery_pdf(sample_delivery())


def test_xml_and_pdf_as_two_files():
    files = build_exchange_files([sample_delivery()], "xml_pdf", "ACME")
    assert [f.name for f in files] == ["WH-OUT-00001.xml", "WH-OUT-00001.pdf"]
    assert files[1].content.startswith(b"%PDF-")


def test_xml_with_the_pdf_embedded():
    [xml] = build_exchange_files([sample_delivery()], "xml_pdf", "ACME", embed_pdf=True)
    node = etree.fromstring(xml.content).find("Delivery/DeliveryNotePdf")
    assert base64.b64decode(node.text) == build_delivery_pdf(sample_delivery())


def test_a_batch_needs_a_stem_and_gets_one_file_per_kind():
    deliveries = [plain_delivery("WH/OUT/1"), plain_delivery("WH/OUT/2")]
    with pytest.raises(PermanentError, match="stem"):
        build_exchange_files(deliveries, "xml", "ACME")
    files = build_exchange_files(deliveries, "xml_pdf", "ACME", stem="batch 2026-11-20 #1")
    assert [f.name for f in files] == ["batch-2026-11-20-1.xml", "batch-2026-11-20-1.pdf"]
    assert etree.fromstring(files[0].content).xpath("Delivery/@reference") == [
        "WH/OUT/1",
        "WH/OUT/2",
    ]


def test_the_profile_schema_is_enforced():
    mapping = XmlMapping(renames=(("Zip", "PLZ"),))
    with pytest.raises(PermanentError, match="PLZ"):
        build_exchange_files([sample_delivery()], "xml", "ACME", mapping=mapping)
    mapped = XmlMapping(
        values=(("Extra/Customer", "{order_reference}"), ("Extra/Weight", "{total_weight_kg}")),
        renames=(("Zip", "PLZ"), ("City", "Ort"), ("Delivery", "Auftrag")),
    )
    [xml] = build_exchange_files(
        [sample_delivery(note="")], "xml", "ACME", mapping=mapped, xsd=GOLDEN / "carrier_mapped.xsd"
    )
    assert b"<PLZ>10115</PLZ>" in xml.content


@pytest.mark.parametrize(
    ("reference", "stem"),
    [("WH/OUT/00001", "WH-OUT-00001"), ("../../etc", "etc"), ("LS Ä 1", "LS-1"), ("a.b", "a-b")],
)
def test_file_stems_are_safe(reference, stem):
    assert file_stem(reference) == stem


@pytest.mark.parametrize("reference", ["", "///", "ÄÖÜ"])
def test_no_stem_from_nothing(reference):
    with pytest.raises(PermanentError, match="no file name"):
        file_stem(reference)


def test_unknown_format_and_empty_input_are_refused():
    with pytest.raises(PermanentError, match="unknown file format"):
        build_exchange_files([sample_delivery()], "edifact", "ACME")
    with pytest.raises(PermanentError, match="no delivery"):
        build_exchange_files([], "xml", "ACME")
