"""What a carrier's portal user enters for one delivery: tracking numbers, shipped lines.

:func:`check_portal_entry` refuses the whole entry at the first problem, so nothing is
changed by a wrong entry. The problem is an :class:`EntryError` with a ``code`` (the
caller turns it into the user's language) and the line or value concerned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MAX_PARCELS = 20
MAX_TRACKING_LENGTH = 100
_SPLIT = re.compile(r"[\n,;]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EntryError(ValueError):
    """A portal entry that cannot be used; ``code`` names the problem.

    Codes: ``no_tracking``, ``bad_tracking``, ``too_many_parcels``, ``unknown_line``,
    ``not_a_number``, ``negative``, ``above_ordered``, ``nothing_shipped``.
    """

    def __init__(self, code: str, subject: object = "", limit: object = ""):
        super().__init__(f"{code}: {subject} {limit}".strip())
        self.code = code
        self.subject = subject
        self.limit = limit


@dataclass(frozen=True, slots=True)
class PortalEntry:
    """A checked portal entry."""

    tracking_refs: tuple[str, ...]
    quantities: tuple[tuple[int, Decimal], ...]  # (line id, shipped quantity), by line id
    partial: bool  # some line ships less than ordered


def split_tracking(text: str) -> tuple[str, ...]:
    """Tracking numbers typed one per line or separated by commas/semicolons, once each."""
    found: list[str] = []
    for part in _SPLIT.split(text or ""):
        number = part.strip()
        if number and number not in found:
            found.append(number)
    return tuple(found)


def _quantity(line_id: int, text: str) -> Decimal:
    cleaned = (text or "").strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise EntryError("not_a_number", line_id, text) from None
    if not value.is_finite():
        raise EntryError("not_a_number", line_id, text)
    if value < 0:
        raise EntryError("negative", line_id, text)
    return value


def check_portal_entry(
    tracking_text: str, entered: Mapping[int, str], ordered: Mapping[int, Decimal]
) -> PortalEntry:
    """Check an entry against the open lines ``ordered`` (line id -> ordered quantity).

    A line left out of ``entered`` ships its ordered quantity (an empty value is not a
    number); 0 ships nothing of it
    (the rest becomes a backorder). Raises :class:`EntryError` for: no tracking number,
    a tracking number with control characters or longer than 100 characters, more than
    20 parcels, a line that is not in ``ordered``, a quantity that is not a number, is
    negative or above the ordered quantity, or nothing shipped at all.
    """
    tracking = split_tracking(tracking_text)
    if not tracking:
        raise EntryError("no_tracking")
    if len(tracking) > MAX_PARCELS:
        raise EntryError("too_many_parcels", len(tracking), MAX_PARCELS)
    for number in tracking:
        if len(number) > MAX_TRACKING_LENGTH or _CONTROL.search(number):
            raise EntryError("bad_tracking", number[:40], MAX_TRACKING_LENGTH)
    unknown = sorted(set(entered) - set(ordered))
    if unknown:
        raise EntryError("unknown_line", unknown[0])
    quantities = []
    partial = False
    for line_id in sorted(ordered):
        maximum = ordered[line_id]
        text = entered.get(line_id)
        shipped = maximum if text is None else _quantity(line_id, text)
        if shipped > maximum:
            raise EntryError("above_ordered", line_id, maximum)
        partial = partial or shipped < maximum
        quantities.append((line_id, shipped))
    if not any(qty for _line, qty in quantities):
        raise EntryError("nothing_shipped")
    return PortalEntry(tracking, tuple(quantities), partial)
