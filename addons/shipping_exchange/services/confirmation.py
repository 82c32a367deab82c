"""Shipping confirmations sent back by carriers and fulfilment providers.

Two formats:

* XML (generic, one or more confirmations)::

    <Confirmations>
      <Confirmation reference="WH/OUT/00001">
        <TrackingNumber>00340434161234567890</TrackingNumber>
        <Carrier>DHL</Carrier>
        <ShippedDate>2026-11-20</ShippedDate>
        <Line sku="SKU-1" quantity="2"/>
      </Confirmation>
    </Confirmations>

  A DOCTYPE is refused outright (no entity is ever expanded: XXE, billion laughs).

* CSV, one row per shipped line, columns named by a :class:`CsvMapping`; delimiter
  ``;`` or ``,`` and encoding UTF-8 (with or without BOM) or cp1252 are detected.

Rows that cannot be used become :class:`Rejection` entries with a reason; the other rows
of the file are still returned. A reference with any rejected row is withheld as a whole,
so a delivery is never confirmed with part of its lines. A file that cannot be read at
all (hostile or broken XML, missing columns, unsafe name) raises :class:`PermanentError`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from ...mail_crm_shop.services.errors import PermanentError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NAME_LENGTH = 255
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A delivery the carrier reports as shipped."""

    reference: str
    tracking_ref: str  # several parcels: tracking numbers joined with ","
    carrier: str
    lines: tuple[tuple[str, Decimal], ...]  # (sku, shipped quantity), in file order
    shipped_date: date | None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row (CSV line number, or n-th ``Confirmation`` element) that was not used."""

    row: int
    reference: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConfirmationBatch:
    """What one confirmation file gave."""

    file_name: str
    confirmations: tuple[Confirmation, ...]
    rejections: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """Which CSV column holds what (header names, compared case-insensitively).

    ``sku``/``quantity`` may be empty when the provider sends one row per delivery
    without lines. ``delimiter``/``encoding`` empty: detected.
    """

    reference: str = "reference"
    tracking_ref: str = "tracking_number"
    carrier: str = "carrier"
    sku: str = "sku"
    quantity: str = "quantity"
    shipped_date: str = "shipped_date"
    date_formats: tuple[str, ...] = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")
    delimiter: str = ""
    encoding: str = ""


def safe_file_name(name: str) -> str:
    """Return ``name`` if it is a plain file name, else raise :class:`PermanentError`.

    Refused: empty, ``.``/``..`` or any ``..``, a leading dot (hidden or ``.part``
    files), ``/`` or ``\\``, a drive letter, NUL or other control characters, > 255 chars.
    A file name from outside is never used as a path.
    """
    if not isinstance(name, str) or not name:
        raise PermanentError("unsafe file name: empty")
    shown = repr(name[:80])
    if _CONTROL.search(name):
        raise PermanentError(f"unsafe file name {shown}: control character")
    if "/" in name or "\\" in name:
        raise PermanentError(f"unsafe file name {shown}: path separator")
    if ".." in name:
        raise PermanentError(f"unsafe file name {shown}: '..'")
    if _DRIVE.match(name):
        raise PermanentError(f"unsafe file name {shown}: drive letter")
    if name.startswith("."):
        raise PermanentError(f"unsafe file name {shown}: hidden file")
    if len(name) > MAX_NAME_LENGTH or name != name.strip():
        raise PermanentError(f"unsafe file name {shown}: too long or padded")
    return name


def parse_quantity(text: str) -> Decimal:
    """``"2"``, ``"2.5"`` or German ``"2,5"`` as a Decimal > 0; else ValueError."""
    cleaned = (text or "").strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"quantity {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"quantity {text!r} must be > 0")
    return value


def parse_date(text: str, formats: Iterable[str] = CsvMapping.date_formats) -> date | None:
    """Empty: None; else the first matching format, or ValueError."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} not understood")


# --------------------------------------------------------------------------- grouping


@dataclass(slots=True)
class _Acc:
    first_row: int
    tracking: list[str]
    carrier: str
    lines: list[tuple[str, Decimal]]
    shipped_date: date | None
    rows: list[int]


def _finish(
    file_name: str,
    groups: dict[str, _Acc],
    rejections: list[Rejection],
    known_references: Collection[str] | None,
) -> ConfirmationBatch:
    rejected_refs = {r.reference for r in rejections if r.reference}
    confirmations = []
    for ref, acc in groups.items():
        if known_references is not None and ref not in known_references:
            rejections.append(Rejection(acc.first_row, ref, f"unknown reference {ref}"))
            continue
        if ref in rejected_refs:
            for row in acc.rows:
                rejections.append(
                    Rejection(row, ref, "withheld: another row of this reference was rejected")
                )
            continue
        confirmations.append(
            Confirmation(
                ref, ",".join(acc.tracking), acc.carrier, tuple(acc.lines), acc.shipped_date
            )
        )
    rejections.sort(key=lambda r: r.row)
    return ConfirmationBatch(file_name, tuple(confirmations), tuple(rejections))


def _add(
    groups: dict[str, _Acc],
    row: int,
    ref: str,
    tracking: str,
    carrier: str,
    line: tuple[str, Decimal] | None,
    shipped: date | None,
) -> str | None:
    """Merge one row into its reference; return a reason if it contradicts earlier rows."""
    acc = groups.get(ref)
    if acc is None:
        groups[ref] = _Acc(row, [tracking] if tracking else [], carrier, [], shipped, [row])
        acc = groups[ref]
    else:
        if carrier and acc.carrier and carrier != acc.carrier:
            return f"carrier {carrier!r} differs from {acc.carrier!r} of an earlier row"
        if shipped and acc.shipped_date and shipped != acc.shipped_date:
            return "shipped date differs from an earlier row"
        acc.carrier = acc.carrier or carrier
        acc.shipped_date = acc.shipped_date or shipped
        if tracking and tracking not in acc.tracking:
            acc.tracking.append(tracking)
        acc.rows.append(row)
    if line is not None:
        for i, (sku, qty) in enumerate(acc.lines):
            if sku == line[0]:
                acc.lines[i] = (sku, qty + line[1])
                break
        else:
            acc.lines.append(line)
    return None


# --------------------------------------------------------------------------- XML

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml_root(data: bytes) -> etree._Element:
    """Parse untrusted XML safely: any DOCTYPE/ENTITY is refused, nothing is fetched."""
    if len(data) > MAX_FILE_BYTES:
        raise PermanentError("file too large")
    probe = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: look at the text, not the bytes
        try:
            probe = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise PermanentError(f"not well-formed XML: {exc}") from exc
    if _DOCTYPE.search(probe):
        raise PermanentError("XML with a DOCTYPE or entity declaration is refused")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise PermanentError(f"not well-formed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise PermanentError("XML with a DOCTYPE or entity declaration is refused")
    for node in root.iter():
        if not isinstance(node.tag, str):  # an entity reference left unexpanded
            raise PermanentError("XML with entity references is refused")
    return root


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(node: etree._Element, name: str) -> str:
    for child in node:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def parse_xml_confirmations(
    file_name: str, data: bytes, known_references: Collection[str] | None = None
) -> ConfirmationBatch:
    """Parse the generic XML confirmation file (namespaces ignored)."""
    root = parse_xml_root(data)
    if _local(root.tag) != "Confirmations":
        raise PermanentError(f"root element {_local(root.tag)!r} is not 'Confirmations'")
    groups: dict[str, _Acc] = {}
    rejections: list[Rejection] = []
    seen: set[str] = set()
    row = 0
    for node in root:
        if _local(node.tag) != "Confirmation":
            continue
        row += 1
        ref = (node.get("reference") or "").strip()
        try:
            if not ref:
                raise ValueError("reference missing")
            if ref in seen:
                raise ValueError(f"reference {ref} twice in the file")
            shipped = parse_date(_child_text(node, "ShippedDate"), ("%Y-%m-%d",))
            lines = []
            for line in node:
                if _local(line.tag) == "Line":
                    sku = (line.get("sku") or "").strip()
                    if not sku:
                        raise ValueError("a line has no sku")
                    lines.append((sku, parse_quantity(line.get("quantity") or "")))
        except ValueError as exc:
            rejections.append(Rejection(row, ref, str(exc)))
            continue
        seen.add(ref)
        tracking = _child_text(node, "TrackingNumber")
        _add(groups, row, ref, tracking, _child_text(node, "Carrier"), None, shipped)
        for line in lines:
            _add(groups, row, ref, "", "", line, None)
        groups[ref].rows[:] = [row]
    return _finish(file_name, groups, rejections, known_references)


# --------------------------------------------------------------------------- CSV


def decode_text(data: bytes, encoding: str = "") -> str:
    """Decode with ``encoding``, else UTF-8 (BOM dropped), else cp1252."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise PermanentError(f"file is not {encoding}: {exc}") from exc
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("utf-8-sig")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:  # the 5 bytes cp1252 leaves undefined
        raise PermanentError(f"file is neither UTF-8 nor cp1252: {exc}") from exc


def detect_delimiter(header_line: str) -> str:
    """``;`` or ``,``, whichever splits the header into more columns (``;`` on a tie)."""
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def parse_csv_confirmations(
    file_name: str,
    data: bytes,
    mapping: CsvMapping = CsvMapping(),  # frozen: a safe default
    known_references: Collection[str] | None = None,
) -> ConfirmationBatch:
    """Parse a CSV confirmation file with ``mapping``; row numbers count the header as 1."""
    reader, header = _csv_header(data, mapping)
    columns = _csv_columns(mapping, header)
    groups: dict[str, _Acc] = {}
    rejections: list[Rejection] = []
    for row, values in _csv_rows(reader):
        ref = _cell(values, columns.reference)
        try:
            if len(values) != len(header):
                raise ValueError(f"{len(values)} columns instead of {len(header)}")
            _add_csv_row(groups, row, ref, values, columns, mapping)
        except ValueError as exc:
            rejections.append(Rejection(row, ref, str(exc)))
    return _finish(file_name, groups, rejections, known_references)


@dataclass(frozen=True, slots=True)
class _CsvColumns:
    """Index of each mapped CSV column (None: not mapped, or optional and absent)."""

    reference: int | None
    tracking_ref: int | None
    carrier: int | None
    sku: int | None
    quantity: int | None
    shipped_date: int | None


def _csv_header(data: bytes, mapping: CsvMapping) -> tuple[Any, list[str]]:
    """Decode ``data``, pick the delimiter; return the CSV reader and the header row."""
    if len(data) > MAX_FILE_BYTES:
        raise PermanentError("file too large")
    text = decode_text(data, mapping.encoding)
    if "\x00" in text:
        raise PermanentError("CSV contains NUL characters")
    first_line = text.split("\n", 1)[0]
    delimiter = mapping.delimiter or detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise PermanentError("CSV is empty") from None
    except csv.Error as exc:
        raise PermanentError(f"CSV header unreadable: {exc}") from exc
    return reader, header


def _csv_columns(mapping: CsvMapping, header: list[str]) -> _CsvColumns:
    """Find the mapped columns in ``header``; a required one missing is a PermanentError."""
    index = {name.strip().lower(): i for i, name in enumerate(header)}

    def column(name: str, required: bool) -> int | None:
        if not name:
            return None
        found = index.get(name.strip().lower())
        if found is None and required:
            raise PermanentError(f"CSV column {name!r} missing (have {header!r})")
        return found

    return _CsvColumns(
        reference=column(mapping.reference, True),
        tracking_ref=column(mapping.tracking_ref, True),
        carrier=column(mapping.carrier, False),
        sku=column(mapping.sku, bool(mapping.sku)),
        quantity=column(mapping.quantity, bool(mapping.sku)),
        shipped_date=column(mapping.shipped_date, False),
    )


def _csv_rows(reader) -> Iterator[tuple[int, list[str]]]:
    """``(line number, values)`` of each non-blank row; unreadable CSV: PermanentError."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise PermanentError(f"CSV line {reader.line_num}: {exc}") from exc
        if any(v.strip() for v in values):
            yield reader.line_num, values


def _cell(values: list[str], col: int | None) -> str:
    return values[col].strip() if col is not None and col < len(values) else ""


def _add_csv_row(
    groups: dict[str, _Acc],
    row: int,
    ref: str,
    values: list[str],
    columns: _CsvColumns,
    mapping: CsvMapping,
) -> None:
    """Merge one row into ``groups``; ValueError with the reason if it is rejected."""
    if not ref:
        raise ValueError("reference missing")
    shipped = parse_date(_cell(values, columns.shipped_date), mapping.date_formats)
    line = None
    if columns.sku is not None:
        sku = _cell(values, columns.sku)
        if not sku:
            raise ValueError("sku missing")
        line = (sku, parse_quantity(_cell(values, columns.quantity)))
    tracking = _cell(values, columns.tracking_ref)
    problem = _add(groups, row, ref, tracking, _cell(values, columns.carrier), line, shipped)
    if problem:
        raise ValueError(problem)


def parse_confirmation_file(
    file_name: str,
    data: bytes,
    mapping: CsvMapping | None = None,
    known_references: Collection[str] | None = None,
) -> ConfirmationBatch:
    """Check the name, then parse by extension (``.xml``; ``.csv``/``.txt``).

    ``known_references`` (optional): references we sent; any other is rejected.
    """
    safe_file_name(file_name)
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix == "xml":
        return parse_xml_confirmations(file_name, data, known_references)
    if suffix in ("csv", "txt"):
        return parse_csv_confirmations(file_name, data, mapping or CsvMapping(), known_references)
    raise PermanentError(f"{file_name}: unknown confirmation file type {suffix!r}")
