"""What every shop adapter shares: the import cursor and shipment lines.

The cursor is an opaque string for the glue (``shop.backend.sync_cursor``). Inside it is
JSON: ``since`` (only orders changed at/after it), ``page`` (where the current run
continues, platform specific: page number, page_info, NextToken, offset), ``hw`` (the
high-water mark: the newest change seen so far in this run) and ``rs`` (when the run
started, by our clock).

When a run completes, the cursor becomes ``{"since": S}`` with
``S = min(hw, rs - CLOCK_MARGIN)`` (never before the old ``since``). Not simply ``hw``:
an order changed while the run pages through an id- or date-sorted list can be passed
over, and its change may be older than ``hw`` (another order changed later). Every such
change happens after ``rs``, so the next run, starting at or before ``rs`` (minus a
margin for the shop's clock), sees it. Orders are fetched again around the boundary;
the glue's unique index on the external id makes that harmless (an update, never a
second order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ....mail_crm_shop.services.errors import PermanentError
from ...services.orders import ShopOrder, UnmappedOrder, format_datetime, parse_datetime

CLOCK_MARGIN = timedelta(minutes=10)


def utcnow() -> datetime:
    """The current time, aware UTC (adapters take it as an injectable ``now``)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class ImportCursor:
    """Decoded import cursor; see the module docstring."""

    since: datetime | None = None
    page: str | None = None
    high_water: datetime | None = None
    run_start: datetime | None = None

    @classmethod
    def decode(cls, cursor: str | None, default_since: datetime | None = None) -> ImportCursor:
        """Parse a stored cursor; ``None`` starts at ``default_since``."""
        if not cursor:
            return cls(since=default_since)
        try:
            data = json.loads(cursor)
            return cls(
                since=parse_datetime(data["since"]) if data.get("since") else None,
                page=data.get("page"),
                high_water=parse_datetime(data["hw"]) if data.get("hw") else None,
                run_start=parse_datetime(data["rs"]) if data.get("rs") else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError, PermanentError):
            raise PermanentError(f"unreadable import cursor {cursor!r}") from None

    def encode(self) -> str:
        """The string stored by the glue."""
        data = {}
        if self.since:
            data["since"] = format_datetime(self.since)
        if self.page is not None:
            data["page"] = self.page
        if self.high_water:
            data["hw"] = format_datetime(self.high_water)
        if self.run_start:
            data["rs"] = format_datetime(self.run_start)
        return json.dumps(data, sort_keys=True)

    def seen(self, orders: tuple[ShopOrder, ...]) -> ImportCursor:
        """This cursor with the high-water mark raised by ``orders``."""
        stamps = [o.updated_at for o in orders]
        if self.high_water:
            stamps.append(self.high_water)
        return replace(self, high_water=max(stamps) if stamps else None)

    def advance(self, orders: tuple[ShopOrder, ...], page: str) -> ImportCursor:
        """Cursor after a page when more pages follow: resume at ``page``."""
        return replace(self.seen(orders), page=page)

    def started(self, now: datetime) -> ImportCursor:
        """This cursor with the run's start time set, unless resuming a started run."""
        return self if self.run_start else replace(self, run_start=now)

    def finished(self, orders: tuple[ShopOrder, ...]) -> str:
        """Cursor to store after the last page; see the module docstring."""
        seen = self.seen(orders)
        limits = [
            t for t in (seen.high_water, self.run_start and self.run_start - CLOCK_MARGIN) if t
        ]
        since = min(limits) if limits else None
        if self.since and (since is None or since < self.since):
            since = self.since
        return ImportCursor(since=since).encode()


# what a malformed payload raises inside a mapping function; recorded, never swallowed
MAPPING_ERRORS = (PermanentError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError)


def map_each(
    mapper: Callable[[Mapping[str, Any]], ShopOrder],
    payloads: Iterable[Any],
    id_keys: tuple[str, ...] = ("id",),
) -> tuple[tuple[ShopOrder, ...], tuple[UnmappedOrder, ...]]:
    """Map every payload; one that fails becomes an :class:`UnmappedOrder` instead of
    stopping the page (its siblings are still imported, it is still recorded)."""
    orders, unmapped = [], []
    for payload in payloads:
        try:
            orders.append(mapper(payload))
        except MAPPING_ERRORS as exc:
            unmapped.append(
                UnmappedOrder(
                    external_id=_payload_id(payload, id_keys),
                    error=f"{type(exc).__name__}: {exc}",
                    raw=payload if isinstance(payload, Mapping) else {"payload": payload},
                )
            )
    return tuple(orders), tuple(unmapped)


def _payload_id(payload: Any, id_keys: tuple[str, ...]) -> str:
    if isinstance(payload, Mapping):
        for key in id_keys:
            if payload.get(key) not in (None, ""):
                return str(payload[key])
    digest = hashlib.sha1(
        json.dumps(payload, sort_keys=True, default=str).encode(), usedforsecurity=False
    ).hexdigest()
    return f"unknown-{digest[:16]}"


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    """Which line of a platform order left in a parcel: the line's external id."""

    external_line_id: str
    quantity: int
