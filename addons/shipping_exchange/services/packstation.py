"""Recognise German parcel-locker addresses (DHL Packstation / Postfiliale)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOCKER = re.compile(r"\b(pack\s*station|postfiliale|paketshop)\b", re.IGNORECASE)
_POST_NUMBER = re.compile(r"(?<!\d)(\d{6,10})(?!\d)")


@dataclass(frozen=True, slots=True)
class LockerAddress:
    """``packstation``: a locker/branch address; ``post_number``: the DHL Postnummer."""

    packstation: bool
    post_number: str


def detect_locker(street: str, street2: str = "", name: str = "") -> LockerAddress:
    """Return whether the address is a Packstation/Postfiliale and its post number.

    The post number is the first 6-10 digit number found in ``street2`` or ``name``
    (customers write it in either); the locker number in ``street`` is not it.
    """
    if not _LOCKER.search(f"{street} {street2}"):
        return LockerAddress(False, "")
    for text in (street2, name):
        match = _POST_NUMBER.search(text or "")
        if match:
            return LockerAddress(True, match.group(1))
    return LockerAddress(True, "")
