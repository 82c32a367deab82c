"""Decoding mail text best effort: bytes in any (or a wrong) charset, RFC 2047 headers.

Charsets: the declared one strictly, UTF-8, Windows-1252, then Latin-1 (never fails); see
the docstring of :mod:`.mime`.
"""

from __future__ import annotations

import binascii
import codecs
import quopri
import re

_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_LATIN_OR_ASCII = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"})


def _codec(charset: str | None) -> str | None:
    """The Python codec name for a declared charset, or None when unknown/not text."""
    if not charset:
        return None
    name = str(charset).split("*", 1)[0].strip().strip("\"'").lower()
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode ``data`` best effort: declared charset, UTF-8, Windows-1252, Latin-1."""
    if not data:
        return ""
    if data.isascii():
        return data.decode("ascii")
    codec = _codec(charset)
    if codec is None or codec in _LATIN_OR_ASCII:
        candidates = ["utf-8", codec or "cp1252", "cp1252"]
    else:
        candidates = [codec, "utf-8", "cp1252"]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeError, LookupError, ValueError, TypeError):
            continue
    return data.decode("latin-1")


def unescape_surrogates(text: str) -> str:
    """Turn the stdlib's surrogate-escaped raw bytes back into real characters."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"))


_BASE64_WORD_RE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _decode_word(encoding: str, payload: str) -> bytes | None:
    """The bytes of one encoded word, or None when it is broken (kept verbatim)."""
    try:
        if encoding.lower() == "b":
            if not _BASE64_WORD_RE.match(payload) or len(payload.rstrip("=")) % 4 == 1:
                return None
            cleaned = payload.rstrip("=")
            return binascii.a2b_base64(cleaned + "=" * (-len(cleaned) % 4))
        return quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"))
    except (binascii.Error, ValueError):
        return None


def decode_header_text(value: str | None) -> str:
    """Decode an unstructured header (RFC 2047 encoded words, raw 8-bit), never failing.

    Broken encoded words stay as written; adjacent words of one charset are joined
    before decoding (a UTF-8 character may be split across two of them).
    """
    if value is None:
        return ""
    text = re.sub(r"\r?\n[ \t]*", " ", str(value))
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush():
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for match in _ENCODED_WORD_RE.finditer(text):
        between = text[position : match.start()]
        decoded = _decode_word(match.group(2), match.group(3))
        if decoded is None:  # broken word: keep it verbatim
            flush()
            out.append(unescape_surrogates(between) + match.group(0))
        else:
            if between and not (pending and between.isspace()):
                flush()  # text between words; whitespace between two words is dropped
                out.append(unescape_surrogates(between))
            charset = match.group(1)
            if pending and _codec(charset) != _codec(pending_charset):
                flush()
            pending.append(decoded)
            pending_charset = charset
        position = match.end()
    flush()
    out.append(unescape_surrogates(text[position:]))
    result = "".join(out)
    return "".join(ch for ch in result if ch >= " " or ch == "\t").strip()
