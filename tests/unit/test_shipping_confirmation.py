"""Carrier confirmations: XML and CSV parsing, rejections, hostile input, file names."""

import contextlib
import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shipping_exchange.services.confirmation import (
    MAX_FILE_BYTES,
    Confirmation,
    CsvMapping,
    Rejection,
    decode_text,
    detect_delimiter,
    parse_confirmation_file,
    parse_csv_confirmations,
    parse_quantity,
    parse_xml_confirmations,
    safe_file_name,
)

from ..conftest import DATA_DIR

SAMPLES = DATA_DIR / "shipping" / "confirmations"
GERMAN = CsvMapping(
    reference="Lieferschein",
    tracking_ref="Sendungsnummer",
    carrier="Versender",
    sku="Artikelnummer",
    quantity="Menge",
    shipped_date="Versanddatum",
)

# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "name", ["WH-OUT-00001.xml", "bestätigung 2026-11-20.csv", "a.b.c", "C.xml", "x" * 255]
)
def test_plain_names_are_safe(name):
    assert safe_file_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../etc/passwd",
        "..\\..\\windows\\win.ini",
        "a/../b.xml",
        "/etc/passwd",
        "sub/file.xml",
        "C:evil.xml",
        "c:\\evil.xml",
        "file\x00.xml",
        "line\nbreak.xml",
        ".hidden.xml",
        "a.xml.part"[:0] + ".part",
        "x" * 256,
        " padded.xml",
        "a..b.xml",
    ],
)
def test_unsafe_names_are_refused(name):
    with pytest.raises(PermanentError, match="unsafe file name"):
        safe_file_name(name)


def test_the_parser_checks_the_name_first():
    with pytest.raises(PermanentError, match="unsafe"):
        parse_confirmation_file("../c.xml", b"<Confirmations/>")


# ---------------------------------------------------------------- XML


def test_xml_sample_gives_confirmations_and_rejections():
    data = (SAMPLES / "ok_fulfilment.xml").read_bytes()
    batch = parse_confirmation_file("ok_fulfilment.xml", data)
    assert batch.file_name == "ok_fulfilment.xml"
    assert batch.confirmations[:2] == (
        Confirmation(
            "WH/OUT/00001",
            "00340434161234567890",
            "DHL",
            (("MUG-01", Decimal(2)), ("TEA-05", Decimal(1))),
            date(2026, 11, 20),
        ),
        Confirmation(
            "WH/OUT/00002",
            "1Z999AA10123456784",
            "UPS",
            (("MUG-01", Decimal(1)),),
            date(2026, 11, 21),
        ),
    )
    assert batch.confirmations[2].reference == "WH/OUT/99999"  # no known list given
    assert batch.rejections == (Rejection(4, "WH/OUT/00003", "quantity 'zwei' is not a number"),)


def test_unknown_references_are_rejected_when_the_known_ones_are_given():
    data = (SAMPLES / "ok_fulfilment.xml").read_bytes()
    batch = parse_xml_confirmations("c.xml", data, known_references={"WH/OUT/00001"})
    assert [c.reference for c in batch.confirmations] == ["WH/OUT/00001"]
    assert [(r.row, r.reason) for r in batch.rejections] == [
        (2, "unknown reference WH/OUT/00002"),
        (3, "unknown reference WH/OUT/99999"),
        (4, "quantity 'zwei' is not a number"),
    ]


def test_namespaced_xml_is_understood():
    data = (
        b'<c:Confirmations xmlns:c="urn:carrier"><c:Confirmation reference="R1">'
        b"<c:TrackingNumber>T1</c:TrackingNumber><c:Line sku='A' quantity='1'/>"
        b"</c:Confirmation></c:Confirmations>"
    )
    [conf] = parse_xml_confirmations("c.xml", data).confirmations
    assert (conf.reference, conf.tracking_ref, conf.lines) == ("R1", "T1", (("A", Decimal(1)),))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<Confirmation><TrackingNumber>T</TrackingNumber></Confirmation>", "reference missing"),
        (
            b"<Confirmation reference='R'><ShippedDate>20.11.2026</ShippedDate></Confirmation>",
            "date '20.11.2026' not understood",
        ),
        (b"<Confirmation reference='R'><Line quantity='1'/></Confirmation>", "no sku"),
        (b"<Confirmation reference='R'><Line sku='A' quantity='-1'/></Confirmation>", "> 0"),
        (b"<Confirmation reference='R'><Line sku='A' quantity='NaN'/></Confirmation>", "> 0"),
    ],
)
def test_bad_xml_rows_are_rejected_with_a_reason(body, reason):
    data = b"<Confirmations>" + body + b"<Confirmation reference='OK'/></Confirmations>"
    batch = parse_xml_confirmations("c.xml", data)
    assert [c.reference for c in batch.confirmations] == ["OK"]
    [rejection] = batch.rejections
    assert reason in rejection.reason


def test_a_reference_twice_in_one_file_is_rejected_the_second_time():
    data = (
        b"<Confirmations><Confirmation reference='R'><TrackingNumber>1</TrackingNumber>"
        b"</Confirmation><Confirmation reference='R'><TrackingNumber>2</TrackingNumber>"
        b"</Confirmation></Confirmations>"
    )
    batch = parse_xml_confirmations("c.xml", data)
    assert batch.rejections == (
        Rejection(1, "R", "withheld: another row of this reference was rejected"),
        Rejection(2, "R", "reference R twice in the file"),
    )
    assert batch.confirmations == ()  # withheld: which one is right is for a person


@pytest.mark.parametrize("sample", ["billion_laughs.xml", "xxe.xml"])
def test_hostile_xml_is_refused_not_resolved(sample):
    with pytest.raises(PermanentError, match="DOCTYPE"):
        parse_confirmation_file(sample, (SAMPLES / sample).read_bytes())


UTF16_DOCTYPE = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'


@pytest.mark.parametrize(
    "data",
    [
        # external DTD and parameter entities
        b'<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><Confirmations/>',
        b'<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><Confirmations/>',
        # lower case and spacing tricks
        b"<!doctype x [<!entity a 'b'>]><Confirmations/>",
        # UTF-16 hides the ASCII bytes from a naive byte scan
        UTF16_DOCTYPE.encode("utf-16"),
    ],
)
def test_any_doctype_is_refused(data):
    with pytest.raises(PermanentError, match="DOCTYPE"):
        parse_xml_confirmations("c.xml", data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Confirmations>", "not well-formed"),
        (b"", "not well-formed"),
        (b"<Orders/>", "is not 'Confirmations'"),
        (b"\xff\xfe<\x00", "not well-formed"),
    ],
)
def test_unreadable_xml_files_are_refused(data, message):
    with pytest.raises(PermanentError, match=message):
        parse_xml_confirmations("c.xml", data)


def test_unknown_file_types_are_refused():
    with pytest.raises(PermanentError, match="unknown confirmation file type"):
        parse_confirmation_file("label.pdf", b"%PDF")


# ---------------------------------------------------------------- CSV


def test_cp1252_semicolon_sample():
    data = (SAMPLES / "ok_cp1252.csv").read_bytes()
    batch = parse_confirmation_file("ok_cp1252.csv", data, GERMAN)
    assert batch.confirmations[0] == Confirmation(
        "WH/OUT/00004",
        "00340434169999999991,00340434169999999992",
        "DHL",
        (("MUG-01", Decimal(2)), ("TEE-GRüN", Decimal("1.5"))),
        date(2026, 11, 20),
    )
    assert batch.rejections == (
        Rejection(4, "WH/OUT/00005", "date '32.11.2026' not understood"),
        Rejection(5, "WH/OUT/00005", "withheld: another row of this reference was rejected"),
    )
    assert [c.reference for c in batch.confirmations] == ["WH/OUT/00004", "WH/OUT/77777"]


def test_utf8_bom_comma_file_with_default_mapping():
    text = (
        "\ufeffReference,Tracking_Number,Carrier,SKU,Quantity,Shipped_Date\r\n"
        'R1,T1,DHL,"A,1",2,2026-11-20\r\n'
        "R1,T1,DHL,B,1,2026-11-20\r\n"
        "\r\n"
        "R2,T2,GLS,A,3,\r\n"
    )
    batch = parse_csv_confirmations("c.csv", text.encode("utf-8"))
    assert batch.rejections == ()
    assert batch.confirmations == (
        Confirmation(
            "R1", "T1", "DHL", (("A,1", Decimal(2)), ("B", Decimal(1))), date(2026, 11, 20)
        ),
        Confirmation("R2", "T2", "GLS", (("A", Decimal(3)),), None),
    )


def test_same_sku_on_two_rows_is_summed():
    data = b"reference;tracking_number;sku;quantity\nR;T;A;1\nR;T;A;2\n"
    [conf] = parse_csv_confirmations("c.csv", data).confirmations
    assert conf.lines == (("A", Decimal(3)),)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("R;T;DHL;A", "4 columns instead of 5"),
        ("R;T;DHL;;1", "sku missing"),
        ("R;T;DHL;A;0", "must be > 0"),
        ("R;T;DHL;A;viele", "not a number"),
        ("R;T;UPS;B;1", "carrier 'UPS' differs"),
    ],
)
def test_bad_csv_rows_are_rejected_and_withhold_their_reference(row, reason):
    data = f"reference;tracking_number;carrier;sku;quantity\nR;T;DHL;A;1\n{row}\nS;U;DHL;A;1\n"
    batch = parse_csv_confirmations("c.csv", data.encode())
    assert [c.reference for c in batch.confirmations] == ["S"]
    assert batch.rejections == (
        Rejection(2, "R", "withheld: another row of this reference was rejected"),
        Rejection(3, "R", batch.rejections[1].reason),
    )
    assert reason in batch.rejections[1].reason


def test_a_row_without_reference_is_rejected_alone():
    data = b"reference;tracking_number;sku;quantity\nR;T;A;1\n;T;A;1\n"
    batch = parse_csv_confirmations("c.csv", data)
    assert [c.reference for c in batch.confirmations] == ["R"]
    assert batch.rejections == (Rejection(3, "", "reference missing"),)


def test_lines_optional_when_the_mapping_has_no_sku_column():
    mapping = CsvMapping(sku="", quantity="")
    data = b"reference,tracking_number\nR1,T1\nR2,T2\n"
    batch = parse_csv_confirmations("c.csv", data, mapping)
    assert [(c.reference, c.lines) for c in batch.confirmations] == [("R1", ()), ("R2", ())]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "CSV is empty"),
        (b"order;parcel\nR;1\n", "column 'reference' missing"),
        (b'reference;tracking_number;sku;quantity\n"R;T;A;1\n', "CSV line"),
        (b"reference;tracking_number\x00;sku;quantity\n", "NUL"),
    ],
)
def test_unreadable_csv_files_are_refused(data, message):
    with pytest.raises(PermanentError, match=message):
        parse_csv_confirmations("c.csv", data)


def test_explicit_encoding_that_does_not_fit_is_refused():
    with pytest.raises(PermanentError, match="not utf-8"):
        parse_csv_confirmations(
            "c.csv", "a;b\nä;ö\n".encode("cp1252"), CsvMapping(encoding="utf-8")
        )


@pytest.mark.parametrize(
    ("line", "delimiter"), [("a;b;c", ";"), ("a,b,c", ","), ("a;b,c", ";"), ("abc", ";")]
)
def test_delimiter_detection(line, delimiter):
    assert detect_delimiter(line) == delimiter


def test_decoding_prefers_utf8_and_falls_back_to_cp1252():
    assert decode_text("Grün".encode()) == "Grün"
    assert decode_text("Grün €".encode("cp1252")) == "Grün €"
    with pytest.raises(PermanentError, match="neither"):
        decode_text(b"\x81\x8d\x8f\x90\x9d")


@pytest.mark.parametrize(("text", "value"), [("2", 2), ("2,5", "2.5"), (" 1.25 ", "1.25")])
def test_quantities(text, value):
    assert parse_quantity(text) == Decimal(value)


# ---------------------------------------------------------------- properties

cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=";,\"'"),
    min_size=1,
    max_size=15,
).filter(lambda s: s.strip() == s and s)
rows = st.lists(
    st.tuples(cell, cell, st.sampled_from(["DHL", "DPD"]), cell, st.integers(1, 999)),
    max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(
    rows=rows,
    delimiter=st.sampled_from([";", ","]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_csv_every_row_is_confirmed_or_rejected(rows, delimiter, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["reference", "tracking_number", "carrier", "sku", "quantity"])
    writer.writerows(rows)
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # not representable in cp1252: a provider could not have sent it
    batch = parse_csv_confirmations("c.csv", data)
    confirmed = {c.reference for c in batch.confirmations}
    rejected = {r.reference for r in batch.rejections}
    assert confirmed.isdisjoint(rejected)
    assert confirmed | rejected == {r[0] for r in rows}
    for conf in batch.confirmations:
        expected: dict[str, int] = {}
        for ref, _, _, sku, qty in rows:
            if ref == conf.reference:
                expected[sku] = expected.get(sku, 0) + qty
        assert dict(conf.lines) == expected


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_csv_garbage_never_crashes(data):
    try:
        batch = parse_csv_confirmations("c.csv", data)
    except PermanentError:
        return
    assert all(isinstance(r.reason, str) and r.reason for r in batch.rejections)


xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda s: s.strip() == s and s)


@settings(max_examples=80, deadline=None)
@given(
    items=st.lists(
        st.tuples(
            xml_text, xml_text, st.lists(st.tuples(xml_text, st.integers(1, 99)), max_size=3)
        ),
        max_size=10,
        unique_by=lambda item: item[0],
    )
)
def test_xml_round_trip(items):
    root = etree.Element("Confirmations")
    for ref, tracking, lines in items:
        node = etree.SubElement(root, "Confirmation", reference=ref)
        etree.SubElement(node, "TrackingNumber").text = tracking
        for sku, qty in lines:
            etree.SubElement(node, "Line", sku=sku, quantity=str(qty))
    batch = parse_xml_confirmations("c.xml", etree.tostring(root, encoding="UTF-8"))
    assert batch.rejections == ()
    assert [(c.reference, c.tracking_ref) for c in batch.confirmations] == [
        (ref, tracking) for ref, tracking, _ in items
    ]
    for conf, (_, _, lines) in zip(batch.confirmations, items, strict=True):
        expected: dict[str, Decimal] = {}
        for sku, qty in lines:
            expected[sku] = expected.get(sku, Decimal(0)) + qty
        assert dict(conf.lines) == expected


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_xml_garbage_never_crashes(data):
    with contextlib.suppress(PermanentError):
        parse_xml_confirmations("c.xml", data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.sampled_from(["..", "../x", "a/..", "C:x", "\\\\srv\\x"]))
def test_an_accepted_name_always_stays_inside_its_folder(name):
    root = PurePosixPath("/srv/exchange/out")
    try:
        safe_file_name(name)
    except PermanentError:
        return
    for flavour in (PurePosixPath, PureWindowsPath):
        joined = flavour(str(root)) / name
        assert joined.parent == flavour(str(root))
        assert ".." not in joined.parts


def test_csv_header_that_breaks_the_csv_rules_is_refused():
    with pytest.raises(PermanentError, match="CSV header unreadable"):
        parse_csv_confirmations("c.csv", b'"reference"x;tracking_number\nR;T\n')


def test_oversized_csv_file_is_refused_before_decoding():
    data = b"reference;tracking_number\n" + b"R;T\n" * (MAX_FILE_BYTES // 4)
    assert len(data) > MAX_FILE_BYTES
    with pytest.raises(PermanentError, match="file too large"):
        parse_csv_confirmations("c.csv", data)
