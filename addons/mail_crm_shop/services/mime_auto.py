"""Whether a mail was sent automatically, and why (bounce, auto-reply, loop, list...).

The reasons and their order are listed in the docstring of :mod:`.mime`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from .mime_headers import first_header_value

_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:automatische antwort|automatic reply|autoreply|auto-reply|out of office"
    r"|abwesenheitsnotiz|abwesenheit|réponse automatique|risposta automatica)\b",
    re.IGNORECASE,
)
BOUNCE_LOCALPARTS = ("mailer-daemon", "postmaster")


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
    null_path = re.fullmatch(r"\s*<\s*>\s*", first_header_value(headers, "return-path")) is not None
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
    return first_header_value(headers, name).strip().lower()


def _headers_say_bounce(headers: Mapping[str, Sequence[str]], local: str, null_path: bool) -> bool:
    """A bounce judged by the headers alone (RFC 3464 report, Exim, mailer-daemon)."""
    content_type = _header_value(headers, "content-type").replace('"', "").replace(" ", "")
    return (
        "report-type=delivery-status" in content_type
        or bool(headers.get("x-failed-recipients"))
        or (local in BOUNCE_LOCALPARTS and null_path)
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
