"""The order status of a CSV order file, translated with the shop's status mapping.

A shop writes its own words into the status column ("bezahlt", "Versendet", "storno").
Each backend keeps a list of those values with the status they mean to us; the values
are compared without regard to case and surrounding spaces. Our own status names are
always understood. A value that is neither is refused with the value and the known ones
named, so the order is not imported with a wrong state and the merchant sees what to add.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ...mail_crm_shop.services.errors import PermanentError
from .orders import ORDER_STATUSES


def normalize_status_value(value: str) -> str:
    """The form in which a shop's status value is compared (trimmed, case-folded)."""
    return " ".join((value or "").split()).casefold()


class StatusMap(Mapping[str, str]):
    """A shop's status values and our status for each, looked up case-insensitively."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        mapped: dict[str, str] = {}
        shown: dict[str, str] = {}
        for value, status in pairs:
            key = normalize_status_value(value)
            if not key:
                raise PermanentError("status mapping: a line has no shop value")
            if status not in ORDER_STATUSES:
                raise PermanentError(
                    f"status mapping: {value!r} maps to {status!r}, not one of "
                    f"{', '.join(ORDER_STATUSES)}"
                )
            if mapped.get(key, status) != status:
                raise PermanentError(
                    f"status mapping: {value!r} maps to both {mapped[key]!r} and {status!r}"
                )
            mapped[key] = status
            shown.setdefault(key, value.strip())
        self._mapped = mapped
        self._shown = shown

    def __getitem__(self, value: str) -> str:
        return self._mapped[normalize_status_value(value)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._shown.values())

    def __len__(self) -> int:
        return len(self._mapped)

    def __repr__(self) -> str:
        return f"StatusMap({dict(self.items())!r})"


def map_status(value: str, status_map: Mapping[str, str], default: str = "open") -> str:
    """Our status for the file's ``value``.

    Empty: ``default``. Listed in ``status_map`` (a :class:`StatusMap` compares
    case-insensitively; a plain mapping exactly): the mapped status. One of our own
    status names: itself. Else a :class:`PermanentError` naming the value and the
    values the mapping knows.
    """
    text = (value or "").strip()
    if not text:
        return default
    mapped = status_map.get(text)
    if mapped is not None:
        return mapped
    if text.lower() in ORDER_STATUSES:
        return text.lower()
    known = ", ".join(repr(v) for v in status_map) or "none"
    raise PermanentError(
        f"unknown order status {text!r}: add it to the shop's status mapping (known: {known})"
    )
