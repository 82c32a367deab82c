"""Who may work on a case: one holder at a time, stale locks free, managers take over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACQUIRE = "acquire"  # free, stale or already ours: (re)take it
DENY = "deny"  # someone else is working on it
TAKEOVER = "takeover"  # someone else holds it, but the requester may take it over


@dataclass(frozen=True, slots=True)
class CaseLock:
    """The lock as stored on a case: holder and the time of the holder's last activity."""

    holder_id: int | None
    lock_date: datetime | None


def is_stale(lock: CaseLock, now: datetime, idle_timeout: timedelta) -> bool:
    """Return whether ``lock`` is held but its holder has been idle for ``idle_timeout``.

    A non-positive timeout means locks never expire.
    """
    if lock.holder_id is None or idle_timeout <= timedelta(0):
        return False
    return lock.lock_date is None or now - lock.lock_date >= idle_timeout


def decide_lock(
    lock: CaseLock,
    requester_id: int,
    now: datetime,
    idle_timeout: timedelta,
    may_take_over: bool = False,
) -> str:
    """Return :data:`ACQUIRE`, :data:`TAKEOVER` or :data:`DENY` for ``requester_id``.

    A free, stale or own lock is (re)acquired; a live lock of someone else is denied,
    unless ``may_take_over`` (managers), then it is a takeover the caller records.
    """
    if lock.holder_id in (None, requester_id) or is_stale(lock, now, idle_timeout):
        return ACQUIRE
    return TAKEOVER if may_take_over else DENY
