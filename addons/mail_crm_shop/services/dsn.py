"""Delivery status notifications (bounces): parse them and classify hard vs soft.

Standard notifications (RFC 3464: ``multipart/report; report-type=delivery-status`` with a
``message/delivery-status`` part, also RFC 6533 ``message/global-delivery-status``) are
read field by field, one :class:`Dsn` per recipient block. Common non-standard bounces
(Exim / qmail plain text "This message was created automatically by mail delivery
software", old Exchange NDRs "Delivery has failed to these recipients", Postfix text) are
recognised best effort from their wording: recipients from ``X-Failed-Recipients`` or the
addresses the text names, status from an enhanced status code or the SMTP reply code.

The original message is found in the attached ``message/rfc822`` (or ``text/rfc822-headers``,
``message/global[-headers]``) part, or in the copy of it that plain-text bounces append.

Hard or soft
    ``hard`` is True for a final failure (action ``failed``) with a permanent status
    ``5.x.x`` - the address should not be written to again. Everything else is soft:
    ``4.x.x`` and ``delayed`` notices, and two permanent codes that say nothing about the
    address itself (:data:`SOFT_PERMANENT_STATUSES`): ``5.2.2`` mailbox full (the owner can
    empty it; RFC 3463 even lists it as usually transient) and ``5.4.7`` delivery time
    expired (the sending side gave up after temporary errors).
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

from .errors import PermanentError

ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")
SOFT_PERMANENT_STATUSES = frozenset({"5.2.2", "5.4.7"})
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d])")
_SMTP_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?=[\s\-]|$)")
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_MESSAGE_ID_LINE = re.compile(r"^Message-ID:[ \t]*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
_ORIGINAL_TYPES = ("message/rfc822", "message/global")
_ORIGINAL_HEADER_TYPES = ("text/rfc822-headers", "message/global-headers")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_STRONG_MARKERS = (
    "created automatically by mail delivery software",
    "qmail-send program",
    "delivery has failed to these recipients",
    "this is the mail system at host",
    "mail delivery subsystem",
    "your message couldn't be delivered",
    "your message could not be delivered",
    "i'm sorry to have to inform you that your message could not",
)
_WEAK_MARKERS = (
    "could not be delivered",
    "couldn't be delivered",
    "wasn't able to deliver",
    "was not delivered",
    "undeliverable",
    "undelivered",
    "delivery failed",
    "delivery failure",
    "failure notice",
    "returned mail",
    "not yet been delivered",
    "delivery status notification",
    "permanent error",
)
_DELAY_MARKERS = (
    "not yet been delivered",
    "warning only",
    "do not need to resend",
    "still being retried",
    "will continue to try",
    "will retry",
    "delivery has been delayed",
    "delivery is delayed",
)
_COPY_MARKERS = re.compile(
    r"^(?:-+ ?This is a copy of the message|--- Below this line is a copy of the message"
    r"|-+ ?Original message|Original message headers:|-+ ?The header of the original message"
    r"|-+ Forwarded message)",
    re.IGNORECASE | re.MULTILINE,
)


class NotADsnError(PermanentError):
    """The message is not a delivery status notification this parser recognises."""


@dataclass(frozen=True, slots=True)
class Dsn:
    """The delivery status of one recipient of one message we sent."""

    original_message_id: str  # "<id@host>" or "" when the bounce does not carry it
    original_recipient: str
    final_recipient: str
    action: str  # one of ACTIONS
    status: str  # "5.1.1"
    diagnostic_code: str  # the remote server's reply, e.g. "smtp; 550 5.1.1 user unknown"
    remote_mta: str
    hard: bool
    source: str = "rfc3464"  # "rfc3464" or "text" (recognised from non-standard wording)


def is_hard(action: str, status: str) -> bool:
    """Return True for a permanent failure of the address (see the module docstring)."""
    return action == "failed" and status.startswith("5.") and status not in SOFT_PERMANENT_STATUSES


def parse_dsn(raw: bytes | str) -> tuple[Dsn, ...]:
    """Return one :class:`Dsn` per recipient reported in the bounce ``raw``.

    Raises :class:`NotADsnError` when ``raw`` is not recognisably a delivery status
    notification (normal mail, auto-replies, garbage).
    """
    if isinstance(raw, str):
        msg = email.message_from_string(raw, policy=compat32)
    elif isinstance(raw, bytes | bytearray):
        msg = email.message_from_bytes(bytes(raw), policy=compat32)
    else:
        raise NotADsnError("a bounce must be given as bytes or str")
    original_id = _original_message_id(msg)
    report = next((p for p in msg.walk() if p.get_content_type() in _REPORT_TYPES), None)
    if report is not None:
        found = _parse_report(report, original_id)
        if found:
            return found
    return _parse_text(msg, original_id)


# --- RFC 3464 ----------------------------------------------------------------------------


def _parse_report(report: Message, original_id: str) -> tuple[Dsn, ...]:
    blocks = _status_blocks(report)
    if len(blocks) < 2:
        return ()
    return tuple(
        _dsn_from_block(block, original_id)
        for block in blocks[1:]
        if block.get("Final-Recipient") or block.get("Original-Recipient")
    )


def _status_blocks(report: Message) -> list[Message]:
    payload = report.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = _decoded_text(report)
    chunks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [email.message_from_string(chunk.strip() + "\n", policy=compat32) for chunk in chunks]


def _dsn_from_block(block: Message, original_id: str) -> Dsn:
    diagnostic = _clean(block.get("Diagnostic-Code", ""))
    status = _status_from(_clean(block.get("Status", "")), diagnostic)
    action = _clean(block.get("Action", "")).lower().split(" ")[0]
    if action not in ACTIONS:
        action = {"2": "delivered", "4": "delayed"}.get(status[:1], "failed")
    if not status:
        status = {"delivered": "2.0.0", "relayed": "2.0.0", "expanded": "2.0.0"}.get(
            action, "4.0.0" if action == "delayed" else "5.0.0"
        )
    final = _typed_value(block.get("Final-Recipient", ""))
    original = _typed_value(block.get("Original-Recipient", ""))
    return Dsn(
        original_message_id=original_id,
        original_recipient=original or final,
        final_recipient=final or original,
        action=action,
        status=status,
        diagnostic_code=diagnostic,
        remote_mta=_host(block.get("Remote-MTA", "")),
        hard=is_hard(action, status),
    )


# --- non-standard, plain-text bounces ----------------------------------------------------


def _parse_text(msg: Message, original_id: str) -> tuple[Dsn, ...]:
    text = _explanation_text(msg)
    lowered = text.lower()
    sender = _clean(msg.get("From", "")).lower()
    subject = _clean(msg.get("Subject", "")).lower()
    failed_header = _clean(msg.get("X-Failed-Recipients", ""))
    daemon = any(d in sender for d in _DAEMONS) or bool(failed_header)
    strong = any(m in lowered for m in _STRONG_MARKERS)
    weak = any(m in lowered or m in subject for m in _WEAK_MARKERS)
    if not (strong or (daemon and weak)):
        raise NotADsnError("not a delivery status notification")
    delayed = any(m in lowered for m in _DELAY_MARKERS)
    action = "delayed" if delayed else "failed"
    own = {a.lower() for a in _ADDRESS.findall(f"{msg.get('From', '')} {msg.get('To', '')}")}
    recipients = _ADDRESS.findall(failed_header) or [
        a for a in _ADDRESS.findall(text) if a.lower() not in own and not _is_daemon(a)
    ]
    recipients = list(dict.fromkeys(recipients))  # unique, in order of appearance
    if not recipients:
        if not original_id:
            raise NotADsnError("bounce names neither a recipient nor the original message")
        recipients = [""]
    return tuple(
        _dsn_from_text(text, address, recipients, action, original_id) for address in recipients
    )


def _dsn_from_text(text, address, recipients, action, original_id) -> Dsn:
    window = _window(text, address, recipients)
    diagnostic = _diagnostic_line(window)
    status = _status_from("", window)
    if not status:
        status = "4.0.0" if action == "delayed" else "5.0.0"
    remote = re.search(r"\bhost\s+([\w.-]+\.[a-z]{2,})\b|Giving up on ([\d.:a-f]+)", window, re.I)
    return Dsn(
        original_message_id=original_id,
        original_recipient=address,
        final_recipient=address,
        action=action,
        status=status,
        diagnostic_code=diagnostic,
        remote_mta=_host(remote.group(1) or remote.group(2)) if remote else "",
        hard=is_hard(action, status),
        source="text",
    )


def _window(text: str, address: str, recipients: list[str]) -> str:
    """Return the part of ``text`` about ``address``: up to the next recipient named."""
    if not address:
        return text
    start = text.lower().find(address.lower())
    if start < 0:
        return text
    ends = [
        pos
        for other in recipients
        if other.lower() != address.lower()
        for pos in [text.lower().find(other.lower(), start + len(address))]
        if pos > start
    ]
    window = text[start : min(ends)] if ends else text[start:]
    if not (_STATUS.search(window) or _SMTP_CODE.search(window)):
        return text  # e.g. Exim lists all addresses first, then one shared reason
    return window


def _diagnostic_line(window: str) -> str:
    lines = [line.strip() for line in window.splitlines()]
    for line in lines:
        if _SMTP_CODE.search(line) or _STATUS.search(line):
            return re.sub(r"\s+", " ", line)[:500]
    return next((line for line in lines[1:] if line), "")[:500]


def _explanation_text(msg: Message) -> str:
    """Return the human-readable part of a bounce, cut before the copy of the original."""
    part = msg
    if msg.is_multipart():
        candidates = [p for p in msg.walk() if p.get_content_maintype() == "text"]
        part = next((p for p in candidates if p.get_content_type() == "text/plain"), None)
        part = part or (candidates[0] if candidates else None)
        if part is None:
            return ""
    text = _decoded_text(part)
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]*>", " ", text)
    marker = _COPY_MARKERS.search(text)
    return text[: marker.start()] if marker else text


def _original_message_id(msg: Message) -> str:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in _ORIGINAL_TYPES and part.is_multipart():
            inner = part.get_payload()
            if inner and isinstance(inner[0], Message) and inner[0].get("Message-ID"):
                return _message_id(inner[0].get("Message-ID"))
        if ctype in _ORIGINAL_HEADER_TYPES or ctype in _ORIGINAL_TYPES:
            found = _MESSAGE_ID_LINE.search(_unfold(_decoded_text(part)))
            if found:
                return found.group(1)
    if msg.get_content_maintype() == "text" or msg.is_multipart():
        # plain-text bounces append the original after a marker line
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                text = _decoded_text(part)
                marker = _COPY_MARKERS.search(text)
                found = _MESSAGE_ID_LINE.search(_unfold(text[marker.end() :])) if marker else None
                if found:
                    return found.group(1)
    return ""


# --- helpers -----------------------------------------------------------------------------


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        if isinstance(inner, list):
            return "\n\n".join(str(p) for p in inner if isinstance(p, Message))
        return inner if isinstance(inner, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return payload.decode("latin-1")


def _status_from(status_field: str, diagnostic: str) -> str:
    for text in (status_field, diagnostic):
        found = _STATUS.search(text)
        if found:
            return ".".join(str(int(g)) for g in found.groups())
    code = _SMTP_CODE.search(diagnostic)
    if code:
        return f"{code.group(1)[0]}.0.0"
    return ""


def _typed_value(value) -> str:
    """``rfc822; User@Example.COM`` -> ``User@Example.COM`` (also ``dns; mx.example.com``)."""
    value = _clean(value)
    if ";" in value:
        value = value.split(";", 1)[1].strip()
    return value.strip("<> ")


def _host(value) -> str:
    """``dns; mx.example.com. (comment)`` -> ``mx.example.com``."""
    value = _typed_value(value)
    return value.split(" ", 1)[0].split("(", 1)[0].rstrip(".") if value else ""


def _message_id(value) -> str:
    value = _clean(value)
    found = re.search(r"<[^>\s]+>", value)
    return found.group(0) if found else value.split(" ")[0] if value else ""


def _clean(value) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _unfold(text: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", text)


def _is_daemon(address: str) -> bool:
    return address.split("@", 1)[0].lower() in _DAEMONS
