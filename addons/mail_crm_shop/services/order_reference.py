"""Order references a customer quotes in a mail ("Bestellung S00042", "order #100234").

:func:`extract_order_references` returns the candidates to look up: tokens holding a
digit that follow an order word (Bestellung, Bestellnummer, Auftrag, Auftragsnummer,
order, order number ...; an invoice - Rechnung - is no order), optionally with ``#``,
``Nr.``, ``No.``, ``:`` between, and anything shaped like Odoo's order names
(``S00042``) wherever it stands. Dates, prices, phone numbers and the case token
(``[#C-00042]``) are no candidates.

Bounded: only the first :data:`MAX_BODY_CHARS` of the body (and
:data:`MAX_SUBJECT_CHARS` of the subject) are read and at most
:data:`MAX_CANDIDATES` candidates come back, so a huge mail costs nothing. The caller
decides which candidate is an order (and whether it may be linked); nothing here does
I/O.
"""

from __future__ import annotations

import html
import re

from .mime_case_tokens import CASE_NUMBER_RE, CASE_TOKEN_RE

MAX_CANDIDATES = 5
# the text read from the body (after tags are removed) and the HTML read to get it
MAX_BODY_CHARS = 4096
MAX_SUBJECT_CHARS = 1024
MAX_HTML_CHARS = 32768
MAX_TOKEN_CHARS = 40
MIN_DIGITS = 3

_KEYWORD = (
    r"(?:bestell(?:ung)?s?[- ]?(?:nummer|nr\b\.?)|bestellung|"
    r"auftrags?[- ]?(?:nummer|nr\b\.?)|auftrag|"
    r"order[- ]?(?:nummer|number|nr\b\.?|no\b\.?|id\b)|order)"
)
# what may stand between the word and the number: "#", "Nr.", "No.", ":", "Nummer"
_SEPARATOR = r"(?:\s*(?:[#:]|nr\b\.?|no\b\.?|nummer\b|number\b|id\b))"
# a token starts and ends with a letter or digit and holds a digit; it is not part of a
# date, price or number group ("12.03.2026", "59,90", "0171 1234567")
_TOKEN = r"(?=[a-z_/-]{0,39}\d)([a-z0-9](?:[a-z0-9_/-]{0,38}[a-z0-9])?)(?![\w-]|[.,:/]\d|[ \t]\d)"
# the word stands alone ("Bestellungen", "reorder" are no order words)
_KEYWORD_RE = re.compile(
    rf"(?<![\w-]){_KEYWORD}(?![^\W\d_]){_SEPARATOR}{{0,3}}\s*{_TOKEN}", re.IGNORECASE
)
# Odoo's own order names (sequence "S" + 5 digits), anywhere in the text
_ODOO_NAME_RE = re.compile(r"(?<![\w/-])(S\d{5,10})(?![\w-]|[.,:/]\d)", re.IGNORECASE)
_DIGIT_RE = re.compile(r"\d")
_DATE_RE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_BLOCK_START_RE = re.compile(r"<(style|script|head)\b", re.IGNORECASE)
_BLOCK_END_RES = {
    name: re.compile(rf"</{name}\b", re.IGNORECASE) for name in ("style", "script", "head")
}
_TAG_RE = re.compile(r"<[^<>]*>")


def html_to_text(body_html: str | None, limit: int = MAX_BODY_CHARS) -> str:
    """Return the first ``limit`` characters of text of ``body_html`` (tags removed,
    entities decoded; only the first :data:`MAX_HTML_CHARS` of the HTML are read)."""
    chunk = _drop_blocks(str(body_html or "")[:MAX_HTML_CHARS])
    return html.unescape(_TAG_RE.sub(" ", chunk))[:limit]


def _drop_blocks(chunk: str) -> str:
    """``chunk`` without its style, script and head blocks; in one pass (an unclosed
    block ends the text)."""
    kept, position = [], 0
    while (start := _BLOCK_START_RE.search(chunk, position)) is not None:
        kept.append(chunk[position : start.start()])
        end = _BLOCK_END_RES[start.group(1).lower()].search(chunk, start.end())
        if end is None:
            return " ".join(kept)
        position = end.start()
    kept.append(chunk[position:])
    return " ".join(kept)


def _is_candidate(token: str) -> bool:
    if len(token) > MAX_TOKEN_CHARS or sum(char.isdigit() for char in token) < MIN_DIGITS:
        return False
    return not (_DATE_RE.match(token) or CASE_NUMBER_RE.match(token))


def _normalized(token: str) -> str:
    return token.upper() if _ODOO_NAME_RE.fullmatch(token) else token


def extract_order_references(
    subject: str | None, body: str | None, limit: int = MAX_CANDIDATES
) -> tuple[str, ...]:
    """Return the order references quoted in ``subject`` and the plain-text ``body``.

    The subject's come first, then the body's, each in the order written, without
    repeats, at most ``limit``; Odoo-shaped names are upper-cased (``s00042`` →
    ``S00042``), other tokens come back as written. Only the first
    :data:`MAX_SUBJECT_CHARS` of ``subject`` and :data:`MAX_BODY_CHARS` of ``body`` are read.
    """
    found: dict[str, None] = {}
    for text in ((subject or "")[:MAX_SUBJECT_CHARS], (body or "")[:MAX_BODY_CHARS]):
        if not _DIGIT_RE.search(text):  # most text quotes no number: no scan
            continue
        text = CASE_TOKEN_RE.sub(" ", text)
        matches = sorted(
            [(m.start(1), m.group(1)) for m in _KEYWORD_RE.finditer(text)]
            + [(m.start(1), m.group(1)) for m in _ODOO_NAME_RE.finditer(text)]
        )
        for _position, token in matches:
            if _is_candidate(token):
                found.setdefault(_normalized(token), None)
                if len(found) >= limit:
                    return tuple(found)
    return tuple(found)
