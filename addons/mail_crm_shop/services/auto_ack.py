"""Whether a new case gets an automatic acknowledgement ("we have received your message").

Pure: the caller reads the facts (sender, automatic-mail flags, our own addresses, the
last acknowledgement sent to that sender) and passes ``now``; :func:`decide_ack` answers
``(send, reason)``. The reason is a code the case stores (``crm.shop.case.ack_reason``).

An acknowledgement is never sent to automatic mail (RFC 3834: answering an auto-reply,
a bounce or list mail starts mail loops), to our own addresses (a loop through our own
mailbox), to system senders nobody reads (``MAILER-DAEMON``, ``no-reply``,
``postmaster``...), to a colleague, or to a missing or invalid address; and at most once
per sender within the queue's throttle window.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

SENT = "sent"
NO_SENDER = "no_sender"
INVALID_SENDER = "invalid_sender"
BOUNCE = "bounce"
AUTO_REPLY = "auto_reply"
SUPPRESSED = "suppressed"
OWN_ADDRESS = "own_address"
SYSTEM_SENDER = "system_sender"
INTERNAL_SENDER = "internal_sender"
THROTTLED = "throttled"
ERROR = "error"  # set by the caller when sending failed (a broken template)

# one address: local part, "@", a domain with at least one dot (no spaces, no brackets)
_ADDRESS_RE = re.compile(
    r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\.]+$"
)
# local parts of mail systems and unattended senders, also with a suffix (no-reply-shop@,
# noreply+tag@, bounces-123@)
_SYSTEM_LOCAL_RE = re.compile(
    r"^(?:mailer-daemon|postmaster|bounces?|(?:no|do[-_.]?not)[-_.]?reply)(?:[-+_.].*)?$"
)
SUBADDRESS_DELIMITER = "+"


@dataclass(frozen=True, slots=True)
class AckInput:
    """What the decision needs to know about the mail that opened a case."""

    sender: str | None  # the From address as received
    is_auto_reply: bool  # any automatic mail (``mime_auto.detect_auto_reason``)
    is_bounce: bool
    suppress_auto_response: bool  # List-Id or X-Auto-Response-Suppress (see below)
    own_addresses: Collection[str]  # our mailboxes, aliases, catchall...
    last_ack_date: datetime | None  # the last acknowledgement sent to this sender
    now: datetime
    throttle_hours: float  # 0: no throttle
    sender_is_internal: bool = False  # the sender is one of our users


class AckDecision(NamedTuple):
    """``(send, reason)``: send the acknowledgement or not, and why."""

    send: bool
    reason: str


def normalize_address(address: str | None) -> str | None:
    """Return ``address`` stripped and lower-cased if it is one valid address, else None."""
    value = (address or "").strip().lower()
    return value if _ADDRESS_RE.match(value) else None


def is_system_sender(address: str) -> bool:
    """Whether ``address`` is a mail system's or an unattended sender (no-reply...)."""
    return bool(_SYSTEM_LOCAL_RE.match(address.rpartition("@")[0].lower()))


def is_own_address(address: str, own_addresses: Collection[str]) -> bool:
    """Whether ``address`` is one of ``own_addresses`` or a sub-address of one
    (``service+c-00042@shop.example`` of ``service@shop.example``), any letter case."""
    local, _sep, domain = address.strip().lower().rpartition("@")
    base = local.split(SUBADDRESS_DELIMITER, 1)[0]
    for own in own_addresses:
        own_local, sep, own_domain = (own or "").strip().lower().rpartition("@")
        if sep and own_domain == domain and own_local.split(SUBADDRESS_DELIMITER, 1)[0] == base:
            return True
    return False


def suppress_requested(headers: Mapping[str, Sequence[str]]) -> bool:
    """Whether the mail asks not to be answered automatically (``headers``: lower-case
    names to raw values): ``X-Auto-Response-Suppress`` with any value but ``None``, or
    list mail (``List-Id``). The same rule as ``mime.parse_message``'s
    ``suppress_auto_response``."""
    suppress = " ".join(headers.get("x-auto-response-suppress", ())).strip().lower()
    listed = any(value.strip() for value in headers.get("list-id", ()))
    return (bool(suppress) and suppress != "none") or listed


def decide_ack(facts: AckInput) -> AckDecision:
    """Decide whether the case opened by this mail is acknowledged; first reason wins."""
    if not (facts.sender or "").strip():
        return AckDecision(False, NO_SENDER)
    address = normalize_address(facts.sender)
    if address is None:
        return AckDecision(False, INVALID_SENDER)
    if facts.is_bounce:
        return AckDecision(False, BOUNCE)
    if facts.is_auto_reply:
        return AckDecision(False, AUTO_REPLY)
    if facts.suppress_auto_response:
        return AckDecision(False, SUPPRESSED)
    if is_own_address(address, facts.own_addresses):
        return AckDecision(False, OWN_ADDRESS)
    if is_system_sender(address):
        return AckDecision(False, SYSTEM_SENDER)
    if facts.sender_is_internal:
        return AckDecision(False, INTERNAL_SENDER)
    if (
        facts.throttle_hours > 0
        and facts.last_ack_date is not None
        and facts.now - facts.last_ack_date < timedelta(hours=facts.throttle_hours)
    ):
        return AckDecision(False, THROTTLED)
    return AckDecision(True, SENT)
