"""Parse an inbound mail (raw RFC 5322 bytes) into what the team inbox stores.

Pure and tolerant: a malformed but readable mail always parses, best effort; only bytes
that are no mail at all raise :class:`ParseError`.

* Structure: stdlib :mod:`email` with ``policy.default``; if that parser or the walk over
  its tree fails on a broken message, the same is done on a ``compat32`` tree.
* Text (headers and bodies) is decoded here rather than by the stdlib, which leaves
  undecodable bytes as lone surrogates (crashing later in the database) and gives up on
  broken encoded words. Charsets: the declared one strictly, UTF-8, Windows-1252, then
  Latin-1 (never fails). A body or encoded word labelled US-ASCII / Latin-1 is tried as
  UTF-8 first: mislabelled UTF-8 is by far the most frequent charset error, and real
  Latin-1 text is almost never valid UTF-8.
* Attachments: every leaf part that is not the body (or is a body part with a file
  name), nested multiparts included; a forwarded ``message/rfc822`` is one ``.eml``
  attachment (its own parts stay inside it). Inline images keep their Content-ID
  (without angle brackets, as referenced by ``cid:`` in the HTML).

Automatic mail (``is_auto_reply`` / ``auto_reason``), first matching reason wins:

``bounce``
    a failed delivery (see ``is_bounce``).
``delivery-report``
    any other delivery status notification (delayed, delivered, relayed).
``auto-submitted``
    RFC 3834 ``Auto-Submitted`` with any value but ``no``.
``loop``
    sent from one of the mailbox's own addresses, or an ``X-Loop`` naming one (only
    when the caller passes the mailbox's addresses).
``x-autoreply``
    ``X-Autoreply`` / ``X-Autorespond`` / ``X-Autoresponder`` (non-RFC responders).
``precedence``
    ``Precedence: bulk | junk | list | auto_reply``.
``null-return-path``
    ``Return-Path: <>`` (RFC 5321 null sender: only automatic mail uses it).
``mailer-daemon``
    a ``MAILER-DAEMON@`` sender (no person writes as the mail system).
``subject``
    Outlook/Exchange out-of-office subjects (``Automatische Antwort:``,
    ``Automatic reply:``, ``Abwesenheitsnotiz``...), for servers that send no header.

:func:`detect_auto_reason` is the one implementation; the inbox's header-only routing
(:mod:`.mail_routing`) calls it too.

``X-Auto-Response-Suppress`` is *not* a sign of an automatic mail: it is a request to the
recipient (help desks and Exchange put it on mail written by people, and Outlook's own
auto replies carry ``Auto-Submitted`` besides). Neither is ``List-Id`` alone: a customer
may write through a group address, and real list traffic carries ``Precedence: list`` or
``bulk`` besides. Both are reported as ``suppress_auto_response``: do not
auto-acknowledge such a mail (RFC 3834 §2: never answer list mail automatically).

``is_bounce``: a ``multipart/report; report-type=delivery-status`` (RFC 3464) with a
recipient whose ``Action`` is ``failed`` (a "delayed" warning is no bounce), or
``X-Failed-Recipients`` (Exim), or a ``mailer-daemon``/``postmaster`` sender with a null
return path. For a bounce, ``bounced_recipients`` are the failed ``Final-Recipient``
addresses of the report (or ``X-Failed-Recipients``) and ``bounced_message_id`` is the
Message-ID of the returned mail or headers (``message/rfc822``, ``text/rfc822-headers``).
"""

from __future__ import annotations

import binascii
import codecs
import quopri
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.errors import MessageError
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from mimetypes import guess_extension

from .errors import PermanentError

CASE_TOKEN_RE = re.compile(r"\[\s*#\s*C\s*-\s*(\d{1,12})\s*\]", re.IGNORECASE)
CASE_NUMBER_RE = re.compile(r"^\s*C\s*-\s*(\d{1,12})\s*$", re.IGNORECASE)
CASE_NUMBER_PADDING = 5  # as the ir.sequence "crm.shop.case": C-00042
REPLY_PREFIX_RE = re.compile(
    r"^(?:\s*(?:re|aw|antw|wg|fw|fwd|wtr|sv|vs|tr|rif|r)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)
_MESSAGE_ID_RE = re.compile(r"<([^<>]+)>")
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+$")
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:automatische antwort|automatic reply|autoreply|auto-reply|out of office"
    r"|abwesenheitsnotiz|abwesenheit|réponse automatique|risposta automatica)\b",
    re.IGNORECASE,
)
_BOUNCE_LOCALPARTS = ("mailer-daemon", "postmaster")
_LATIN_OR_ASCII = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"})
_PARSE_ERRORS = (
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


class ParseError(PermanentError):
    """The bytes are not a mail at all (empty, or no header can be read)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried by a mail; ``content_id`` has no angle brackets."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What the team inbox needs of one inbound mail. Addresses are lower-case."""

    message_id: str | None  # normalised "<id@host>"
    subject: str
    from_address: str | None
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None  # timezone-aware
    body_text: str
    body_html: str
    attachments: tuple[Attachment, ...]
    is_auto_reply: bool
    auto_reason: str | None
    is_bounce: bool
    case_token: str | None  # "C-00042"
    suppress_auto_response: bool = False
    # of a bounce: the recipients that failed and the Message-ID of our mail that bounced
    bounced_recipients: tuple[str, ...] = ()
    bounced_message_id: str | None = None


# -- case tokens ------------------------------------------------------------------------


def normalize_case_number(number: str | int) -> str:
    """Return ``number`` as the sequence writes it (``42``, ``"c-42"`` → ``"C-00042"``)."""
    if isinstance(number, int) and not isinstance(number, bool):
        digits = str(number)
    else:
        match = CASE_NUMBER_RE.match(str(number or ""))
        if not match:
            raise PermanentError(f"not a case number: {number!r}")
        digits = match.group(1)
    return f"C-{int(digits):0{CASE_NUMBER_PADDING}d}"


def extract_case_token(subject: str | None) -> str | None:
    """Return the case number of the first ``[#C-00042]`` token in ``subject``, or None.

    Spaces inside the token and any letter case are tolerated; the number comes back
    normalised (``[# c-42 ]`` → ``"C-00042"``).
    """
    match = CASE_TOKEN_RE.search(subject or "")
    return f"C-{int(match.group(1)):0{CASE_NUMBER_PADDING}d}" if match else None


def add_case_token(subject: str | None, number: str | int) -> str:
    """Return ``subject`` carrying the token of case ``number`` exactly once.

    Idempotent: a subject that already has this token is returned unchanged; another
    case's token is replaced. The token goes after reply prefixes (``AW: [#C-00042] …``).
    """
    number = normalize_case_number(number)
    subject = " ".join((subject or "").split())
    tokens = CASE_TOKEN_RE.findall(subject)
    if len(tokens) == 1 and extract_case_token(subject) == number:
        return subject
    subject = " ".join(CASE_TOKEN_RE.sub(" ", subject).split())
    prefix_match = REPLY_PREFIX_RE.match(subject)
    prefix = prefix_match.group(0).strip() + " " if prefix_match else ""
    rest = subject[prefix_match.end() :] if prefix_match else subject
    return f"{prefix}[#{number}] {rest}".strip()


# -- message ids ------------------------------------------------------------------------


def normalize_message_id(value: str | None) -> str | None:
    """Return the first Message-ID of ``value`` as ``<id@host>`` (no spaces), or None."""
    ids = _message_ids(value)
    return ids[0] if ids else None


def _message_ids(value: str | None) -> tuple[str, ...]:
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


# -- text decoding ----------------------------------------------------------------------


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


def _unescape(text: str) -> str:
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
            out.append(_unescape(between) + match.group(0))
        else:
            if between and not (pending and between.isspace()):
                flush()  # text between words; whitespace between two words is dropped
                out.append(_unescape(between))
            charset = match.group(1)
            if pending and _codec(charset) != _codec(pending_charset):
                flush()
            pending.append(decoded)
            pending_charset = charset
        position = match.end()
    flush()
    out.append(_unescape(text[position:]))
    result = "".join(out)
    return "".join(ch for ch in result if ch >= " " or ch == "\t").strip()


# -- headers ----------------------------------------------------------------------------


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    try:
        items = list(msg.raw_items())
    except _PARSE_ERRORS:
        items = []
    for name, value in items:
        if isinstance(name, str):
            headers.setdefault(name.strip().lower(), []).append(
                value if isinstance(value, str) else str(value)
            )
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded name, lower-case address) pairs; unreadable entries are dropped."""
    try:
        pairs = getaddresses([re.sub(r"\r?\n[ \t]*", " ", v) for v in values])
    except _PARSE_ERRORS:
        pairs = []
    result = []
    for name, address in pairs:
        address = _unescape(address).strip().strip("<>").lower()
        if _ADDRESS_RE.match(address):
            result.append((decode_header_text(name), address))
    return result


def _parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(re.sub(r"\s+", " ", value).strip())
    except (*_PARSE_ERRORS, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322 §3.3)
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def detect_auto_reason(
    headers: Mapping[str, Sequence[str]],
    subject: str,
    from_address: str | None,
    *,
    own_addresses: Collection[str] = (),
    is_bounce: bool | None = None,
    is_delivery_report: bool = False,
) -> str | None:
    """Return why a mail is automatic (see the module docstring), or None for a person.

    The one detector of the team inbox: the header-only routing of the inbox
    (:func:`.mail_routing.read_headers`) and the full parser (:func:`parse_message`) both
    call it. ``headers`` maps lower-case header names to their raw values. ``is_bounce``
    is the verdict of a reader that saw the delivery report's body; ``None`` judges by
    the headers alone (an RFC 3464 ``Content-Type`` or ``X-Failed-Recipients`` is then a
    bounce). ``own_addresses`` are the mailbox's (lower-case) addresses: mail sent from
    one of them, or whose ``X-Loop`` names one, is a ``loop``.

    What is deliberately *not* a sign: ``List-Id`` or ``List-Unsubscribe`` alone (a
    customer may write through a group address, e.g. a company's Google Group, and must
    not be hidden as an automatic reply; real list traffic carries ``Precedence: list``
    or ``bulk``, and list mail is never auto-acknowledged through
    ``suppress_auto_response``), ``X-Auto-Response-Suppress`` (a request, see above), a
    ``Return-Path`` with an address, and ``postmaster@`` as sender without a null
    return path (a person answering for a mail server).
    """
    address = (from_address or "").strip().lower()
    local = address.split("@", 1)[0]
    null_path = re.fullmatch(r"\s*<\s*>\s*", _first(headers, "return-path")) is not None
    if is_bounce is None:
        is_bounce = _headers_say_bounce(headers, local, null_path)
    if is_bounce:
        return "bounce"
    if is_delivery_report:
        return "delivery-report"
    return _header_reason(headers, address, own_addresses) or _sender_reason(
        subject, local, null_path
    )


def _header_value(headers: Mapping[str, Sequence[str]], name: str) -> str:
    return _first(headers, name).strip().lower()


def _headers_say_bounce(headers: Mapping[str, Sequence[str]], local: str, null_path: bool) -> bool:
    """A bounce judged by the headers alone (RFC 3464 report, Exim, mailer-daemon)."""
    content_type = _header_value(headers, "content-type").replace('"', "").replace(" ", "")
    return (
        "report-type=delivery-status" in content_type
        or bool(headers.get("x-failed-recipients"))
        or (local in _BOUNCE_LOCALPARTS and null_path)
    )


def _header_reason(
    headers: Mapping[str, Sequence[str]], address: str, own_addresses: Collection[str]
) -> str | None:
    """``auto-submitted``, ``loop``, ``x-autoreply`` or ``precedence``, in this order."""
    auto_submitted = _header_value(headers, "auto-submitted").split(";", 1)[0].strip()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    own = {item.strip().lower() for item in own_addresses if item and item.strip()}
    x_loop = " ".join(headers.get("x-loop", ())).lower()
    if (address and address in own) or any(item in x_loop for item in own):
        return "loop"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if headers.get(name) and _header_value(headers, name) not in ("no", "false", "0"):
            return "x-autoreply"
    if _header_value(headers, "precedence").split(";", 1)[0].strip() in _AUTO_PRECEDENCE:
        return "precedence"
    return None


def _sender_reason(subject: str, local: str, null_path: bool) -> str | None:
    """``null-return-path``, ``mailer-daemon`` or ``subject``, in this order."""
    if null_path:
        return "null-return-path"
    if local == "mailer-daemon":
        return "mailer-daemon"
    if _AUTO_SUBJECT_RE.match(subject or ""):
        return "subject"
    return None


# -- body -------------------------------------------------------------------------------


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
    except _PARSE_ERRORS:
        text = re.sub(r"<[^>]*>", " ", html)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except _PARSE_ERRORS:
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        try:
            charset, _lang, raw = value
            return decode_bytes(
                raw.encode("latin-1", "surrogateescape") if isinstance(raw, str) else bytes(raw),
                charset,
            )
        except _PARSE_ERRORS:
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
        except _PARSE_ERRORS:
            return str(payload).encode("utf-8", "surrogateescape")
    data = part.get_payload(decode=True)
    if data is None:
        return b""
    return bytes(data)


def _given_filename(part: Message) -> str | None:
    """The file name the sender gave (Content-Disposition or Content-Type ``name``)."""
    try:
        name = part.get_filename()
    except _PARSE_ERRORS:
        name = None
    if not isinstance(name, str) or not name.strip():
        name = _param(part, "name")
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
            subject = decode_header_text(_first(_raw_headers(inner[0]), "subject"))
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


def _walk(msg: Message) -> _Body:
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
        headers = _raw_headers(part)
        disposition = _first(headers, "content-disposition").split(";", 1)[0].strip().lower()
        content_id = _unescape(_first(headers, "content-id")).strip().strip("<>").strip() or None
        is_body_text = (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and _given_filename(part) is None
        )
        data = _payload_bytes(part)
        if is_body_text:
            text = decode_bytes(data, _param(part, "charset"))
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


_DSN_FIELD_RE = re.compile(rb"^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$", re.MULTILINE)
_RETURNED_ID_RE = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.M)
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_TYPES = (
    "message/rfc822",
    "text/rfc822-headers",
    "message/global",
    "message/global-headers",
)


@dataclass(frozen=True, slots=True)
class _Report:
    is_dsn: bool  # a delivery status notification of any kind (failure, delay, success)
    is_bounce: bool  # ... that says a delivery failed
    recipients: tuple[str, ...]  # the failed ones
    message_id: str | None  # of the mail that was returned


def _dsn_recipients(data: bytes) -> list[tuple[str, str]]:
    """(final recipient, action) of each per-recipient block of an RFC 3464 report."""
    result = []
    for block in re.split(rb"\r?\n[ \t]*\r?\n", data):
        fields = {name.lower(): value.strip() for name, value in _DSN_FIELD_RE.findall(block)}
        recipient = fields.get(b"final-recipient", b"").partition(b";")[2].strip(b" <>")
        if recipient:
            action = decode_bytes(fields.get(b"action", b"")).strip().lower()
            result.append((decode_bytes(recipient).lower(), action))
    return result


def _report(
    msg: Message,
    headers: dict[str, list[str]],
    from_address: str | None,
    attachments: list[Attachment],
) -> _Report:
    """Tell bounces from other delivery reports and collect what failed."""
    is_dsn = False
    if msg.get_content_type() == "multipart/report":
        is_dsn = (_param(msg, "report-type") or "").strip().lower() == "delivery-status"
    entries: list[tuple[str, str]] = []
    message_id = None
    for attachment in attachments:
        if attachment.content_type in _REPORT_TYPES:
            entries += _dsn_recipients(attachment.data)
        elif message_id is None and attachment.content_type in _RETURNED_TYPES:
            head = re.split(rb"\r?\n\r?\n", attachment.data, maxsplit=1)[0]
            match = _RETURNED_ID_RE.search(head)
            message_id = normalize_message_id(decode_bytes(match.group(1))) if match else None
    failed = [address for address, action in entries if action == "failed"]
    failed += [address for _name, address in _addresses(headers.get("x-failed-recipients", []))]
    local = (from_address or "").split("@", 1)[0]
    null_path = re.fullmatch(r"\s*<\s*>\s*", _first(headers, "return-path")) is not None
    if is_dsn:
        # a report whose recipients were all delayed/delivered/relayed is no bounce
        is_bounce = bool(failed) or not entries
    else:
        is_bounce = bool(failed) or (local in _BOUNCE_LOCALPARTS and null_path)
    return _Report(
        is_dsn=is_dsn,
        is_bounce=is_bounce,
        recipients=tuple(dict.fromkeys(failed)) if is_bounce else (),
        message_id=message_id if is_bounce else None,
    )


# -- entry point ------------------------------------------------------------------------


def _build(msg: Message) -> ParsedMail:
    headers = _raw_headers(msg)
    if not headers:
        raise ParseError("no mail header found")
    subject = decode_header_text(_first(headers, "subject"))
    from_name, from_address = _sender(headers)
    body = _walk(msg)
    body_html = "\n".join(body.html).strip()
    body_text = "\n".join(body.text).strip() or (html_to_text(body_html) if body_html else "")
    report = _report(msg, headers, from_address, body.attachments)
    auto_reason = detect_auto_reason(
        headers,
        subject,
        from_address,
        is_bounce=report.is_bounce,
        is_delivery_report=report.is_dsn,
    )
    return ParsedMail(
        message_id=normalize_message_id(_unescape(_first(headers, "message-id"))),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=_header_addresses(headers, "to"),
        cc=_header_addresses(headers, "cc"),
        reply_to=_header_addresses(headers, "reply-to"),
        in_reply_to=normalize_message_id(_unescape(_first(headers, "in-reply-to"))),
        references=_message_ids(_unescape(" ".join(headers.get("references", [])))),
        date=_parse_date(_unescape(_first(headers, "date"))),
        body_text=body_text,
        body_html=body_html,
        attachments=tuple(body.attachments),
        is_auto_reply=auto_reason is not None,
        auto_reason=auto_reason,
        is_bounce=report.is_bounce,
        case_token=extract_case_token(subject),
        suppress_auto_response=_suppresses_auto_response(headers),
        bounced_recipients=report.recipients,
        bounced_message_id=report.message_id,
    )


def _sender(headers: dict[str, list[str]]) -> tuple[str, str | None]:
    """``(name, address)`` of From (else Sender); an unreadable From is kept as the name."""
    senders = _addresses(headers.get("from", []) or headers.get("sender", []))
    from_name, from_address = senders[0] if senders else ("", None)
    if not from_name and not from_address and headers.get("from"):
        from_name = decode_header_text(_first(headers, "from"))  # garbage: keep it readable
    return from_name, from_address


def _header_addresses(headers: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """The addresses of header ``name``, each once, in order."""
    return tuple(dict.fromkeys(a for _n, a in _addresses(headers.get(name, []))))


def _suppresses_auto_response(headers: dict[str, list[str]]) -> bool:
    """Whether the sender asks for no automatic answer (or the mail comes from a list)."""
    suppress = _first(headers, "x-auto-response-suppress").strip().lower()
    is_list = bool(headers.get("list-id"))
    return (bool(suppress) and suppress != "none") or is_list


def parse_message(raw: bytes) -> ParsedMail:
    """Parse the raw bytes of a mail; raise :class:`ParseError` only if it is none.

    Tries ``policy.default`` first and the lenient ``compat32`` on failure.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_message expects bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise ParseError("empty message")
    last_error: BaseException | None = None
    for mail_policy in (policy.default, policy.compat32):
        try:
            msg = BytesParser(policy=mail_policy).parsebytes(raw)
            return _build(msg)
        except ParseError:
            raise
        except _PARSE_ERRORS as exc:
            last_error = exc
    raise ParseError(f"unreadable message: {last_error!r}") from last_error
