"""Reading mail headers tolerantly: raw values, addresses, dates and Message-IDs."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.errors import MessageError
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from .mime_text import decode_header_text, unescape_surrogates

_MESSAGE_ID_RE = re.compile(r"<([^<>]+)>")
_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+$")
PARSE_ERRORS = (
    MessageError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    LookupError,
    UnicodeError,
    AssertionError,
    RecursionError,
)


# -- message ids ------------------------------------------------------------------------


def normalize_message_id(value: str | None) -> str | None:
    """Return the first Message-ID of ``value`` as ``<id@host>`` (no spaces), or None."""
    ids = normalize_message_ids(value)
    return ids[0] if ids else None


def normalize_message_ids(value: str | None) -> tuple[str, ...]:
    """All Message-IDs of a header value, normalised, in order, without repeats."""
    if not value:
        return ()
    value = str(value)
    found = [re.sub(r"\s+", "", m) for m in _MESSAGE_ID_RE.findall(value)]
    if not found:  # bare ids written without brackets by broken clients
        found = [token.strip("<>,;") for token in value.split() if "@" in token]
    result: dict[str, None] = {}
    for item in found:
        if item:
            result.setdefault(f"<{item}>", None)
    return tuple(result)


# -- headers ----------------------------------------------------------------------------


def raw_headers(msg: Message) -> dict[str, list[str]]:
    """Map each lower-case header name to its raw values in order; unreadable: empty."""
    headers: dict[str, list[str]] = {}
    try:
        items = list(msg.raw_items())
    except PARSE_ERRORS:
        items = []
    for name, value in items:
        if isinstance(name, str):
            headers.setdefault(name.strip().lower(), []).append(
                value if isinstance(value, str) else str(value)
            )
    return headers


def first_header_value(headers: dict[str, list[str]], name: str) -> str:
    """The first raw value of header ``name`` (lower-case), or ``""`` if it is missing."""
    values = headers.get(name)
    return values[0] if values else ""


def parse_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded name, lower-case address) pairs; unreadable entries are dropped."""
    try:
        pairs = getaddresses([re.sub(r"\r?\n[ \t]*", " ", v) for v in values])
    except PARSE_ERRORS:
        pairs = []
    result = []
    for name, address in pairs:
        address = unescape_surrogates(address).strip().strip("<>").lower()
        if _ADDRESS_RE.match(address):
            result.append((decode_header_text(name), address))
    return result


def parse_header_date(value: str) -> datetime | None:
    """The timezone-aware date of a Date header (UTC if it has none); None if unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(re.sub(r"\s+", " ", value).strip())
    except (*PARSE_ERRORS, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322 §3.3)
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed
