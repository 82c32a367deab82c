"""Delivery notes (order sheets for the warehouse or fulfilment provider) as PDF.

One A4 page per delivery (continued on further pages when the lines do not fit): a
Code128 barcode of the delivery reference, the recipient, and the lines table. Built
with the reportlab canvas in invariant mode, so the same delivery gives the same bytes.

Text is set in Helvetica (WinAnsi: German and West European names). A text outside that
range (Polish, Czech, Cyrillic names) is set in DejaVu Sans when the font is installed
(:data:`UNICODE_FONT_FILES`, Debian ``fonts-dejavu-core``), else its missing glyphs show
as boxes; the XML always carries the exact text.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from reportlab import rl_config
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from ...mail_crm_shop.services.errors import PermanentError
from .delivery_xml import Delivery

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
ROW_HEIGHT = 6 * mm
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
# x positions of the columns: SKU, EAN, name, quantity (right aligned), weight (right)
COLUMNS = (MARGIN, MARGIN + 35 * mm, MARGIN + 68 * mm, PAGE_WIDTH - MARGIN - 25 * mm)
MAX_NAME_CHARS = 48
BARCODE_HEIGHT = 14 * mm
BAR_WIDTH = 0.3 * mm
UNICODE_FONT_FILES = (
    ("DejaVuSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ("DejaVuSans-Bold", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
_FONT_LOCK = threading.Lock()
_unicode_fonts: list[tuple[str, str] | None] = []  # filled once: (regular, bold) or None


def unicode_fonts() -> tuple[str, str] | None:
    """Names of the registered (regular, bold) Unicode fonts, or None if not installed."""
    if not _unicode_fonts:
        with _FONT_LOCK:
            if not _unicode_fonts:
                try:
                    for name, path in UNICODE_FONT_FILES:
                        if name not in pdfmetrics.getRegisteredFontNames():
                            pdfmetrics.registerFont(TTFont(name, path))
                    found = (UNICODE_FONT_FILES[0][0], UNICODE_FONT_FILES[1][0])
                except (TTFError, OSError):
                    found = None
                _unicode_fonts.append(found)
    return _unicode_fonts[0]


def _is_winansi(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _qty(value) -> str:
    return format(value.normalize(), "f")


class _Page:
    """One text object per page: far fewer PDF operators than a ``drawString`` per cell."""

    def __init__(self, canvas: Canvas):
        self.canvas = canvas
        self.text = canvas.beginText()
        self.font: tuple[str, int] | None = None

    def put(self, x: float, y: float, value: str, size: int = 9, bold=False, right=False):
        font = (FONT_BOLD if bold else FONT, size)
        if not _is_winansi(value) and (fonts := unicode_fonts()):
            font = (fonts[1] if bold else fonts[0], size)
        if font != self.font:
            self.text.setFont(*font)
            self.font = font
        if right:
            x -= stringWidth(value, *font)
        self.text.setTextOrigin(x, y)
        self.text.textOut(value)

    def finish(self) -> None:
        self.canvas.drawText(self.text)


def _code128(canvas: Canvas, page: _Page, value: str, right: float, bottom: float) -> None:
    """Draw the Code128 bars of ``value`` ending at ``right``, the text below them.

    reportlab's barcode encodes (start code, checksum, stop code); the bars are written as
    one filled path instead of a reportlab call per bar, which dominates the page time.
    """
    barcode = Code128(value, barHeight=BARCODE_HEIGHT, barWidth=BAR_WIDTH, humanReadable=False)
    left = right - barcode.width + barcode.lquiet
    x = left
    bars = []
    for symbol in barcode.decomposed:
        if "a" <= symbol <= "z":  # a space, width in modules
            x += (ord(symbol) - 96) * BAR_WIDTH
        elif "A" <= symbol <= "Z":  # a bar
            width = (ord(symbol) - 64) * BAR_WIDTH
            bars.append(f"{x:.3f} {bottom:.3f} {width:.3f} {BARCODE_HEIGHT:.3f} re")
            x += width
    canvas.addLiteral("\n".join(bars) + "\nf")
    center = (left + x) / 2
    page.put(center - stringWidth(value, FONT, 9) / 2, bottom - 4 * mm, value)


def _header(canvas: Canvas, page: _Page, delivery: Delivery, number: int) -> float:
    """Draw the page header; return the y where the lines table starts."""
    top = PAGE_HEIGHT - MARGIN
    page.put(MARGIN, top - 6 * mm, "Delivery note", 16, bold=True)
    page.put(MARGIN, top - 12 * mm, f"Delivery: {delivery.reference}", 10)
    page.put(MARGIN, top - 17 * mm, f"Order: {delivery.order_reference}", 10)
    if delivery.shipping_date:
        page.put(MARGIN, top - 22 * mm, f"Ship on: {delivery.shipping_date.isoformat()}", 10)
    page.put(PAGE_WIDTH - MARGIN, top - 30 * mm, f"Page {number}", 10, right=True)
    _code128(canvas, page, delivery.reference, PAGE_WIDTH - MARGIN, top - 20 * mm)
    y = top - 40 * mm
    if number == 1:
        rcp = delivery.recipient
        address = [rcp.name, rcp.company, rcp.street, rcp.street2]
        if rcp.packstation:
            address.append(f"Packstation, post number {rcp.post_number}")
        address += [f"{rcp.zip} {rcp.city}", rcp.country, rcp.phone, rcp.email]
        page.put(MARGIN, y, "Ship to", 10, bold=True)
        for text in filter(None, address):
            y -= 5 * mm
            page.put(MARGIN, y, _fit(text, 80), 10)
        extras = []
        if delivery.cod_amount is not None:
            extras.append(f"Cash on delivery: {delivery.cod_amount:.2f} {delivery.cod_currency}")
        if delivery.services:
            extras.append("Services: " + ", ".join(delivery.services))
        if delivery.parcels:
            extras.append(f"Parcels: {len(delivery.parcels)}")
        for text in extras:
            y -= 5 * mm
            page.put(MARGIN, y, _fit(text, 90), 10)
        y -= 10 * mm
    for x, title in zip(COLUMNS[:3], ("SKU", "EAN", "Product"), strict=True):
        page.put(x, y, title, bold=True)
    page.put(COLUMNS[3], y, "Qty", bold=True, right=True)
    page.put(PAGE_WIDTH - MARGIN, y, "Weight kg", bold=True, right=True)
    canvas.line(MARGIN, y - 2, PAGE_WIDTH - MARGIN, y - 2)
    return y - ROW_HEIGHT


def _draw_delivery(canvas: Canvas, delivery: Delivery) -> None:
    number = 1
    page = _Page(canvas)
    y = _header(canvas, page, delivery, number)
    for line in delivery.lines:
        if y < MARGIN + ROW_HEIGHT:
            page.finish()
            canvas.showPage()
            number += 1
            page = _Page(canvas)
            y = _header(canvas, page, delivery, number)
        page.put(COLUMNS[0], y, _fit(line.sku, 20))
        page.put(COLUMNS[1], y, line.ean)
        page.put(COLUMNS[2], y, _fit(line.name, MAX_NAME_CHARS))
        page.put(COLUMNS[3], y, _qty(line.quantity), right=True)
        page.put(PAGE_WIDTH - MARGIN, y, f"{line.weight_kg * line.quantity:.3f}", right=True)
        y -= ROW_HEIGHT
    if delivery.note and y > MARGIN + 2 * ROW_HEIGHT:
        page.put(MARGIN, y - ROW_HEIGHT, _fit("Note: " + delivery.note, 100))
    page.finish()
    canvas.showPage()


_A85_LOCK = threading.Lock()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Write Flate streams without the ASCII85 layer while our document is saved.

    reportlab reads this switch (``rl_config.useA85``) only when it writes the file; in
    pure Python ASCII85 costs a quarter of the build time and makes the file 25% larger.
    Both forms are valid PDF, so another thread saving at the same moment is unharmed.
    """
    with _A85_LOCK:
        previous = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = previous


def build_batch_pdf(deliveries: Iterable[Delivery], compress: bool = True) -> bytes:
    """Return one PDF with the delivery notes of all ``deliveries``, each on its own page(s).

    Deterministic: the same input gives the same bytes. ``compress=False`` keeps the page
    content readable (for tests). A reference Code128 cannot encode (non-ASCII) or an
    empty batch is a :class:`PermanentError`.
    """
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1 if compress else 0)
    canvas.setTitle("Delivery notes")
    canvas.setCreator("shipping_exchange")
    count = 0
    for delivery in deliveries:
        if not delivery.reference.strip() or not delivery.reference.isascii():
            raise PermanentError(
                f"delivery {delivery.reference!r}: reference must be non-empty ASCII "
                "for the barcode"
            )
        _draw_delivery(canvas, delivery)
        count += 1
    if not count:
        raise PermanentError("no delivery to print")
    with _binary_streams():
        canvas.save()
    return buffer.getvalue()


def build_delivery_pdf(delivery: Delivery, compress: bool = True) -> bytes:
    """Return the delivery note PDF of one ``delivery`` (deterministic bytes)."""
    return build_batch_pdf([delivery], compress)
