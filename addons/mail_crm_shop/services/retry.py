"""Retry policy shared by the scheduled work of all four addons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import PermanentError, TransientError


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What to do with a unit of work after a failure."""

    state: str  # "error" (retry scheduled) or "failed" (a person is needed)
    attempt_count: int
    next_attempt_date: datetime | None


def decide_retry(
    exc: BaseException,
    attempt_count: int,
    now: datetime,
    max_attempts: int = 5,
    base_delay: timedelta = timedelta(minutes=5),
    max_delay: timedelta = timedelta(hours=12),
) -> RetryDecision:
    """Return the state after failure number ``attempt_count + 1`` of a unit of work.

    A :class:`PermanentError` fails at once; other errors are retried with exponential
    backoff (``base_delay * 2**n``, capped at ``max_delay``) until ``max_attempts``, never
    before the wait the other side asked for (a :class:`TransientError`'s ``retry_after``,
    bounded by ``max_delay`` too: a wrong header never parks a record for good).
    """
    attempts = attempt_count + 1
    if isinstance(exc, PermanentError) or attempts >= max_attempts:
        return RetryDecision("failed", attempts, None)
    delay = min(base_delay * (2 ** (attempts - 1)), max_delay)
    return RetryDecision("error", attempts, now + max(delay, asked_wait(exc, max_delay)))


def asked_wait(exc: BaseException, limit: timedelta = timedelta(hours=12)) -> timedelta:
    """The wait the other side asked for before a retry (a :class:`TransientError`'s
    ``retry_after``), at most ``limit``; none for other errors."""
    seconds = getattr(exc, "retry_after", None) if isinstance(exc, TransientError) else None
    return min(timedelta(seconds=seconds), limit) if seconds and seconds > 0 else timedelta(0)
