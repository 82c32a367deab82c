"""Service level deadlines: business hours over work intervals, or plain calendar hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Targets of a queue in hours; ``None`` or 0 means no target."""

    first_response_hours: float | None = None
    resolution_hours: float | None = None
    calendar_hours: bool = False  # True: count every hour, weekends included (marketplaces)


@dataclass(frozen=True, slots=True)
class SlaDeadlines:
    """Deadlines of one case (naive UTC datetimes, ``None`` when there is no target)."""

    first_response: datetime | None
    resolution: datetime | None


def add_business_hours(
    start: datetime, hours: float, intervals: Iterable[tuple[datetime, datetime]]
) -> datetime | None:
    """Return the moment ``hours`` of work after ``start`` within the work ``intervals``.

    ``intervals`` are ``(begin, end)`` pairs of working time, in any order, possibly
    overlapping; time before ``start`` does not count. Return ``None`` when the intervals
    end before the hours are used up (the caller asked for too short a horizon).
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = timedelta(hours=hours)
    cursor = start
    for begin, end in sorted(intervals):
        begin = max(begin, cursor)
        if end <= begin:
            continue
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
        cursor = end
    return start if remaining == timedelta(0) else None


def compute_deadlines(
    start: datetime, targets: SlaTargets, intervals: Iterable[tuple[datetime, datetime]] = ()
) -> SlaDeadlines:
    """Return the first-response and resolution deadlines of a case received at ``start``.

    With ``targets.calendar_hours`` the hours run around the clock (the marketplace rule:
    answer within 24 h, weekends included); otherwise only inside ``intervals``.
    """
    intervals = tuple(intervals)

    def deadline(hours: float | None) -> datetime | None:
        if not hours:
            return None
        if targets.calendar_hours:
            return start + timedelta(hours=hours)
        found = add_business_hours(start, hours, intervals)
        if found is None:
            raise ValueError(f"work intervals end before {hours} business hours after {start}")
        return found

    return SlaDeadlines(deadline(targets.first_response_hours), deadline(targets.resolution_hours))


def is_breached(deadline: datetime | None, met_at: datetime | None, now: datetime) -> bool:
    """Return whether ``deadline`` was missed: met after it, or still unmet after it."""
    if not deadline:
        return False
    return (met_at or now) > deadline


def elapsed_hours(start: datetime, end: datetime) -> float:
    """Return the hours between ``start`` and ``end`` (calendar time), rounded to minutes."""
    return round((end - start).total_seconds() / 60) / 60
