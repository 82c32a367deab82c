"""Shipping confirmations written into the text of a mail.

Carriers often confirm by a plain notice instead of a file::

    Lieferschein: WH/OUT/00012
    Sendungsnummer: 00340434161234567890, 00340434161234567891

    Your delivery WH/OUT/00013 has been shipped.
    Tracking number: 1Z999AA10123456784

or paste their XML or CSV confirmation into the mail. :func:`parse_mail_text` reads, in
this order:

1. an inline ``<Confirmations>`` XML document (same rules as the file: no DOCTYPE, no
   entities);
2. an inline CSV block whose header names the profile's reference and tracking columns;
3. "key: value" notices: every match of the reference pattern starts a delivery, the
   tracking numbers found after it (up to the next reference) belong to it. Tracking
   numbers before the first reference belong to the only reference of the mail; with
   several references they are rejected. A reference without a tracking number is
   rejected (a mail that merely mentions a delivery never validates it). Quoted lines
   (starting with ``>``) are ignored.

Both patterns are regular expressions (case-insensitive, multi-line); the value is the
group named ``value``, else the first group, else the whole match. The tracking value is
split into numbers at commas, semicolons, blanks and "und"/"and"; only the leading run
of tokens that look like tracking numbers (6 to 40 letters, digits or dashes, at least
one digit) is taken.

:func:`mail_text` turns a received mail (plain text or HTML only, any transfer
encoding) into the text that is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from ...mail_crm_shop.services.errors import PermanentError
from .confirmation import (
    ConfirmationBatch,
    CsvMapping,
    Rejection,
    _Acc,
    _finish,
    detect_delimiter,
    parse_csv_confirmations,
    parse_xml_confirmations,
)

MAX_TEXT_CHARS = 1_000_000

# Separator between key and value: ":", "#", "=", "-", or a few words ending in ":"
# ("Tracking number for your parcel: …"); the words hold no digit, so a value is never
# swallowed by them.
_SEP = r"(?:[^\S\n]*(?:[:#=]|-(?!\d))|[^\n:\d]{0,40}:)?[^\S\n]*"

DEFAULT_REFERENCE_PATTERN = (
    r"\b(?:Lieferscheinnummer|Lieferschein-?Nr\.?|Lieferschein|Lieferungsnummer|Lieferung"
    r"|Ihre\s+Referenz|Referenznummer|Referenz|Delivery\s+(?:order|note|reference|number)"
    r"|Delivery|Your\s+reference|Reference\s+number|Reference|Ref\.?)(?![\w])"
    + _SEP
    + r"(?P<value>(?=[\w/.\-]*\d)[A-Za-z0-9][\w/.\-]*[A-Za-z0-9])"
)
DEFAULT_TRACKING_PATTERN = (
    r"\b(?:Sendungsnummern|Sendungsnummer|Sendungs-?Nr\.?|Paketnummern|Paketnummer"
    r"|Paket-?Nr\.?|Trackingnummern|Trackingnummer|Tracking-?Nr\.?|Tracking[\s-]+numbers?"
    r"|Tracking[\s-]+(?:no\.?|code|ID)|Tracking\s*#|Track\s*#|Parcel\s+numbers?"
    r"|Shipment\s+numbers?|Consignment\s+numbers?|Tracking)(?![\w])" + _SEP + r"(?P<value>[^\n]*)"
)

_XML_BLOCK = re.compile(r"<(?:[\w.-]+:)?Confirmations\b.*?</(?:[\w.-]+:)?Confirmations\s*>", re.S)
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_TOKEN_SPLIT = re.compile(r"[,;]|\s+(?:und|and|&)\s+|\s+", re.IGNORECASE)
_TRACKING_TOKEN = re.compile(r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{5,39}")
_FLAGS = re.IGNORECASE | re.MULTILINE


@dataclass(frozen=True, slots=True)
class TextPatterns:
    """The regular expressions that find the delivery reference and tracking numbers."""

    reference: str = DEFAULT_REFERENCE_PATTERN
    tracking: str = DEFAULT_TRACKING_PATTERN


def check_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` as used here; ValueError if it is not a usable expression."""
    try:
        compiled = re.compile(pattern, _FLAGS)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    if compiled.search("") is not None:
        raise ValueError("the expression matches an empty text")
    return compiled


def _value(match: re.Match[str]) -> str:
    if "value" in match.re.groupindex:
        return match.group("value") or ""
    return (match.group(1) if match.re.groups else match.group(0)) or ""


def tracking_numbers(value: str) -> list[str]:
    """The leading run of tracking-number-like tokens of ``value``, in order, once each."""
    found: list[str] = []
    for raw in _TOKEN_SPLIT.split(value.strip()):
        token = raw.strip().strip(".:()[]<>\"'")
        if not token:
            continue
        if not _TRACKING_TOKEN.fullmatch(token):
            break
        if token not in found:
            found.append(token)
    return found


# --------------------------------------------------------------------------- text of a mail


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        (
            *("address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "h1"),
            *("h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "section"),
            *("table", "tbody", "thead", "tfoot", "tr", "ul"),
        )
    )
    _SKIP = frozenset(("script", "style", "head", "title"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body: blocks and ``<br>`` become line breaks, entities are
    decoded, scripts and styles dropped, blanks inside a line collapsed."""
    parser = _TextExtractor()
    parser.feed(html or "")
    parser.close()
    lines = ("".join(parser.parts)).replace("\xa0", " ").split("\n")
    cleaned = [" ".join(line.split()) for line in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(cleaned)).strip()


def mail_text(message: Message) -> str:
    """The text of a received mail: its first plain-text body, else its HTML body as text
    (transfer encoding and charset decoded). Attachments are not part of the text."""
    if not isinstance(message, EmailMessage):
        raise TypeError("parse the mail with email.policy.default")
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = body.get_content()
    if body.get_content_subtype() == "html":
        return html_to_text(content)
    return content.replace("\r\n", "\n").strip()


# --------------------------------------------------------------------------- parsing


def _inline_xml(file_name: str, text: str, known_references):
    found = _XML_BLOCK.search(text)
    if not found:
        return None
    if _DOCTYPE.search(text):
        raise PermanentError("XML with a DOCTYPE or entity declaration is refused")
    return parse_xml_confirmations(file_name, found.group(0).encode("utf-8"), known_references)


def _inline_csv(file_name: str, text: str, mapping: CsvMapping, known_references):
    lines = text.split("\n")
    wanted = {mapping.reference.strip().lower(), mapping.tracking_ref.strip().lower()}
    for start, line in enumerate(lines):
        delimiter = mapping.delimiter or detect_delimiter(line)
        if delimiter not in line:
            continue
        cells = {cell.strip().strip('"').lower() for cell in line.split(delimiter)}
        if not wanted <= cells:
            continue
        block = [line.strip()]
        for following in lines[start + 1 :]:
            if not following.strip() or delimiter not in following:
                break
            block.append(following.strip())
        data = ("\n".join(block) + "\n").encode("utf-8")
        csv_mapping = replace(mapping, delimiter=delimiter, encoding="utf-8")
        if mapping.sku and mapping.sku.strip().lower() not in cells:
            csv_mapping = replace(csv_mapping, sku="", quantity="")  # one row per delivery
        return parse_csv_confirmations(file_name, data, csv_mapping, known_references)
    return None


def _unquoted(text: str) -> str:
    return "\n".join("" if line.lstrip().startswith(">") else line for line in text.split("\n"))


def _notice(file_name: str, text: str, patterns: TextPatterns, known_references):
    events = _events(text, patterns)
    references = [value for _pos, kind, value in events if kind == 0]
    if not references:
        orphans = [n for _pos, kind, value in events if kind == 1 for n in value]
        if orphans:
            raise PermanentError(
                f"tracking number(s) {', '.join(orphans)} found, but no delivery reference"
            )
        raise PermanentError("the mail carries no confirmation (no file, no reference)")
    only = references[0] if len(set(references)) == 1 else None
    groups, rejections = _assign_tracking(text, events, only)
    for ref, acc in list(groups.items()):
        if not acc.tracking:
            rejections.append(Rejection(acc.first_row, ref, "no tracking number found"))
            del groups[ref]
    return _finish(file_name, groups, rejections, known_references)


def _events(text: str, patterns: TextPatterns) -> list[tuple[int, int, Any]]:
    """``(position, kind, value)`` of every match in text order: kind 0 a reference (its
    value), kind 1 tracking numbers (the list); at one position the reference first."""
    reference_re = check_pattern(patterns.reference)
    tracking_re = check_pattern(patterns.tracking)
    events: list[tuple[int, int, Any]] = []
    for match in reference_re.finditer(text):
        value = _value(match).strip()
        if value:
            events.append((match.start(), 0, value))
    for match in tracking_re.finditer(text):
        numbers = tracking_numbers(_value(match))
        if numbers:
            events.append((match.start(), 1, numbers))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _assign_tracking(
    text: str, events: list[tuple[int, int, Any]], only: str | None
) -> tuple[dict[str, _Acc], list[Rejection]]:
    """Group the tracking numbers under the reference before them (else ``only``, the
    mail's single reference); numbers before any of several references are rejected."""
    groups: dict[str, _Acc] = {}
    rejections: list[Rejection] = []
    current = None
    for pos, kind, value in events:
        row = text.count("\n", 0, pos) + 1
        if kind == 0:
            current = value
            if value not in groups:
                groups[value] = _Acc(row, [], "", [], None, [row])
            continue
        owner = current or only
        if owner is None:
            rejections.append(
                Rejection(row, "", f"tracking number(s) {', '.join(value)} before any reference")
            )
            continue
        if owner not in groups:
            groups[owner] = _Acc(row, [], "", [], None, [row])
        acc = groups[owner]
        acc.tracking.extend(n for n in value if n not in acc.tracking)
    return groups, rejections


def parse_mail_text(
    text: str,
    patterns: TextPatterns = TextPatterns(),  # frozen: a safe default
    mapping: CsvMapping | None = None,
    known_references: Collection[str] | None = None,
    file_name: str = "mail-text",
) -> ConfirmationBatch:
    """Read the confirmations written into ``text`` (inline XML, inline CSV, or notices).

    Raises :class:`PermanentError` when the text carries no confirmation at all, with the
    reason; rows that cannot be used are returned as rejections.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_TEXT_CHARS:
        raise PermanentError("mail text too long")
    if "\x00" in text:
        raise PermanentError("mail text contains NUL characters")
    batch = _inline_xml(file_name, text, known_references)
    if batch is None:
        batch = _inline_csv(file_name, text, mapping or CsvMapping(), known_references)
    if batch is None:
        batch = _notice(file_name, _unquoted(text), patterns, known_references)
    if not batch.confirmations and not batch.rejections:
        raise PermanentError("the mail carries no confirmation (no file, no reference)")
    return batch
