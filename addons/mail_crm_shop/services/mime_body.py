"""The body of a mail: its texts (plain and HTML) and its attachments, in document order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from html.parser import HTMLParser
from mimetypes import guess_extension

from .mime_headers import PARSE_ERRORS, first_header_value, raw_headers
from .mime_text import decode_bytes, decode_header_text, unescape_surrogates


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried by a mail; ``content_id`` has no angle brackets."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul"}
    )
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A plain-text rendering of ``html`` (for mails that have no text part)."""
    try:
        parser = _TextExtractor()
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except PARSE_ERRORS:
        text = re.sub(r"<[^>]*>", " ", html)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def content_type_param(part: Message, name: str, header: str = "content-type") -> str | None:
    """A parameter of Content-Type (or ``header``), RFC 2231 decoded, or None."""
    try:
        value = part.get_param(name, header=header)
    except PARSE_ERRORS:
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        try:
            charset, _lang, raw = value
            return decode_bytes(
                raw.encode("latin-1", "surrogateescape") if isinstance(raw, str) else bytes(raw),
                charset,
            )
        except PARSE_ERRORS:
            return str(value[-1])
    return value if value is None else str(value)


def _payload_bytes(part: Message) -> bytes:
    """The decoded content of a leaf part (or the serialized message of message/*)."""
    payload = part.get_payload()
    if isinstance(payload, list):  # message/rfc822, message/delivery-status
        try:
            return b"".join(
                sub.as_bytes(policy=policy.compat32) if isinstance(sub, Message) else b""
                for sub in payload
            )
        except PARSE_ERRORS:
            return str(payload).encode("utf-8", "surrogateescape")
    data = part.get_payload(decode=True)
    if data is None:
        return b""
    return bytes(data)


def _given_filename(part: Message) -> str | None:
    """The file name the sender gave (Content-Disposition or Content-Type ``name``)."""
    try:
        name = part.get_filename()
    except PARSE_ERRORS:
        name = None
    if not isinstance(name, str) or not name.strip():
        name = content_type_param(part, "name")
    if not isinstance(name, str) or not name.strip():
        return None
    name = re.sub(r"[\\/\x00-\x1f]+", "_", decode_header_text(name)).strip(" .")
    return name or None


def _filename(part: Message, index: int, content_type: str, content_id: str | None) -> str:
    name = _given_filename(part)
    if name:
        return name
    if content_type == "message/rfc822":
        inner = part.get_payload()
        subject = ""
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject = decode_header_text(first_header_value(raw_headers(inner[0]), "subject"))
        stem = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "_", subject).strip(" ._")[:80]
        return f"{stem or f'message-{index}'}.eml"
    textual = content_type.startswith(("text/", "message/"))
    extension = guess_extension(content_type) or (".txt" if textual else ".bin")
    stem = re.sub(r"[^\w.-]+", "_", content_id.split("@", 1)[0]) if content_id else ""
    if stem and "." in stem.strip("."):
        return stem
    if not stem and textual:  # delivery-status.txt, rfc822-headers.txt, calendar.ics
        stem = content_type.partition("/")[2]
    return f"{stem or f'attachment-{index}'}{extension}"


@dataclass(slots=True)
class _Body:
    text: list[str]
    html: list[str]
    attachments: list[Attachment]


def collect_body(msg: Message) -> _Body:
    """Collect body texts and attachments, depth first, in document order."""
    body = _Body([], [], [])
    stack = [msg]
    index = 0
    while stack:
        part = stack.pop(0)
        content_type = (part.get_content_type() or "text/plain").lower()
        if content_type.startswith("multipart/"):
            if part.is_multipart():
                stack[0:0] = list(part.get_payload())
                continue
            content_type = "text/plain"  # broken multipart (no boundary): show it as text
        headers = raw_headers(part)
        disposition = (
            first_header_value(headers, "content-disposition").split(";", 1)[0].strip().lower()
        )
        raw_content_id = unescape_surrogates(first_header_value(headers, "content-id"))
        content_id = raw_content_id.strip().strip("<>").strip() or None
        is_body_text = (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and _given_filename(part) is None
        )
        data = _payload_bytes(part)
        if is_body_text:
            text = decode_bytes(data, content_type_param(part, "charset"))
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            (body.html if content_type == "text/html" else body.text).append(text)
            continue
        index += 1
        body.attachments.append(
            Attachment(
                filename=_filename(part, index, content_type, content_id),
                content_type=content_type,
                data=data,
                content_id=content_id,
                inline=disposition == "inline" or (not disposition and bool(content_id)),
            )
        )
    return body
