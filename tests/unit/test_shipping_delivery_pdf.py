"""Delivery note PDF: deterministic, barcode, recipient and lines on the page."""

import contextlib
import dataclasses
import io
import re
import zlib
from decimal import Decimal

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shipping_exchange.services.delivery_pdf import (
    build_batch_pdf,
    build_delivery_pdf,
)
from shopaddons.shipping_exchange.services.delivery_xml import DeliveryLine

from .test_shipping_delivery_xml import plain_delivery, sample_delivery


def _page_texts(pdf: bytes) -> list[str]:
    """The text drawn on each page (uncompressed content streams, in page order)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    texts = []
    for stream in streams:
        with contextlib.suppress(zlib.error):
            stream = zlib.decompress(stream)
        if b"BT" in stream:
            strings = re.findall(rb"\((.*?)\) Tj", stream)
            texts.append(" ".join(_unescape(s) for s in strings))
    return texts


def _unescape(literal: bytes) -> str:
    """A PDF string literal (octal escapes, WinAnsi encoding) as text."""
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), literal)
    return re.sub(rb"\\(.)", rb"\1", raw).decode("cp1252")


def test_the_same_delivery_gives_the_same_bytes():
    assert build_delivery_pdf(sample_delivery()) == build_delivery_pdf(sample_delivery())


def test_it_is_a_pdf_with_one_page():
    pdf = build_delivery_pdf(sample_delivery())
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1


def test_page_shows_reference_recipient_and_lines():
    [text] = _page_texts(build_delivery_pdf(sample_delivery(), compress=False))
    for expected in (
        "Delivery: WH/OUT/00001",
        "Order: S00042",
        "Jörg Müller",
        "Tasse „Grün“ & Co <groß>",
        "Packstation, post number 123456789",
        "10115 Berlin",
        "MUG-01",
        "4006381333931",
        "TEA-05",
        "1.5",
        "Cash on delivery: 49.90 EUR",
        "Services: SIGNATURE",
    ):
        assert expected in text, expected


def test_barcode_encodes_the_reference_in_code128():
    pdf = build_delivery_pdf(sample_delivery(), compress=False)
    [text] = _page_texts(pdf)
    assert text.count("WH/OUT/00001") == 2  # header line and the barcode's human readable
    assert pdf.count(b" re") > 30  # the bars


def test_long_deliveries_continue_on_more_pages():
    lines = tuple(DeliveryLine(f"SKU-{i:03d}", f"Artikel {i}", Decimal(1)) for i in range(50))
    texts = _page_texts(build_delivery_pdf(sample_delivery(lines=lines), compress=False))
    assert len(texts) == 2
    assert "SKU-000" in texts[0] and "SKU-049" in texts[1]
    assert "Page 2" in texts[1] and "WH/OUT/00001" in texts[1]


def test_batch_has_one_page_per_delivery_in_order():
    deliveries = [plain_delivery(f"WH/OUT/{i:05d}") for i in range(1, 4)]
    texts = _page_texts(build_batch_pdf(deliveries, compress=False))
    assert [re.search(r"Delivery: (\S+)", t).group(1) for t in texts] == [
        "WH/OUT/00001",
        "WH/OUT/00002",
        "WH/OUT/00003",
    ]


@pytest.mark.parametrize("reference", ["", "LS/Ärger/1"])
def test_references_code128_cannot_carry_are_refused(reference):
    with pytest.raises(PermanentError, match="barcode"):
        build_delivery_pdf(dataclasses.replace(sample_delivery(), reference=reference))


def test_empty_batch_is_refused():
    with pytest.raises(PermanentError, match="no delivery"):
        build_batch_pdf([])


def _bars(stream: bytes) -> list[tuple[float, float]]:
    """(x offset from the first bar, width) of every filled rectangle with barcode height."""
    rects = [
        tuple(float(v) for v in m)
        for m in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re", stream)
    ]
    bars = [(x, w) for x, _, w, h in rects if abs(h - 14 * 72 / 25.4) < 0.01]
    return [(x - bars[0][0], w) for x, w in bars]


@pytest.mark.parametrize("reference", ["WH/OUT/00001", "A", "LS-2026-000123456"])
def test_barcode_bars_are_those_reportlab_draws(reference):
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    ours = build_delivery_pdf(sample_delivery(reference=reference), compress=False)
    canvas = Canvas(io.BytesIO(), pageCompression=0)
    Code128(reference, barHeight=14 * mm, barWidth=0.3 * mm, humanReadable=False).drawOn(
        canvas, 0, 0
    )
    theirs = "".join(canvas._code).encode()
    ours_bars, their_bars = _bars(ours), _bars(theirs)
    assert len(ours_bars) == len(their_bars)
    flat = [v for bar in ours_bars for v in bar]
    assert flat == pytest.approx([v for bar in their_bars for v in bar], abs=0.02)
    assert len(_bars(ours)) > 3 * len(reference)  # three bars per symbol at least (set B)


def test_names_beyond_west_european_use_the_unicode_font_when_installed():
    from shopaddons.shipping_exchange.services.delivery_pdf import unicode_fonts

    delivery = dataclasses.replace(
        sample_delivery(),
        recipient=dataclasses.replace(sample_delivery().recipient, name="Łukasz Dvořák"),
    )
    pdf = build_delivery_pdf(delivery, compress=False)
    assert pdf == build_delivery_pdf(delivery, compress=False)
    fonts = unicode_fonts()
    if fonts is None:  # no DejaVu on this machine: Helvetica only, and still a PDF
        assert b"DejaVu" not in pdf and pdf.startswith(b"%PDF-")
    else:
        assert b"/BaseFont /AAAAAA+DejaVuSans" in pdf
    # West European names never pull the font in
    assert b"DejaVu" not in build_delivery_pdf(sample_delivery(), compress=False)
