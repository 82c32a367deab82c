"""Delivery reports in a mail: a bounce or not, the failed recipients, the returned mail.

What counts as a bounce is described in the docstring of :mod:`.mime` (``is_bounce``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .mime_auto import BOUNCE_LOCALPARTS
from .mime_body import Attachment, content_type_param
from .mime_headers import first_header_value, normalize_message_id, parse_addresses
from .mime_text import decode_bytes

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


def read_delivery_report(
    msg: Message,
    headers: dict[str, list[str]],
    from_address: str | None,
    attachments: list[Attachment],
) -> _Report:
    """Tell bounces from other delivery reports and collect what failed."""
    is_dsn = False
    if msg.get_content_type() == "multipart/report":
        is_dsn = (content_type_param(msg, "report-type") or "").strip().lower() == "delivery-status"
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
    failed += [
        address for _name, address in parse_addresses(headers.get("x-failed-recipients", []))
    ]
    local = (from_address or "").split("@", 1)[0]
    null_path = re.fullmatch(r"\s*<\s*>\s*", first_header_value(headers, "return-path")) is not None
    if is_dsn:
        # a report whose recipients were all delayed/delivered/relayed is no bounce
        is_bounce = bool(failed) or not entries
    else:
        is_bounce = bool(failed) or (local in BOUNCE_LOCALPARTS and null_path)
    return _Report(
        is_dsn=is_dsn,
        is_bounce=is_bounce,
        recipients=tuple(dict.fromkeys(failed)) if is_bounce else (),
        message_id=message_id if is_bounce else None,
    )
