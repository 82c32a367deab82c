"""GoBD mail archive: content digests, a tamper-evident hash chain, retention, tax-audit export.

Digest
    ``entry_sha256`` is the lowercase hex SHA-256 of the exact raw RFC 822 bytes as received
    or sent (no normalisation of line endings or headers: the bytes ARE the document).

Hash chain, version ``gobd-chain-v1`` (:data:`CHAIN_VERSION`)
    Entries are numbered ``sequence = 1, 2, 3, ...`` without gaps. Each entry stores::

        chain_hash = sha256_hex(
            "gobd-chain-v1|" + prev_chain_hash + "|" + entry_sha256 + "|"
            + archived_at + "|" + str(sequence)
        )   # the string encoded as ASCII

    where ``prev_chain_hash`` is the ``chain_hash`` of entry ``sequence - 1`` (64 zeros,
    :data:`GENESIS_HASH`, for sequence 1), hashes are 64 lowercase hex digits,
    ``archived_at`` is the archiving instant in UTC formatted exactly as
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits) and ``sequence`` is the
    decimal integer without leading zeros. Changing any byte of a message, any stored hash,
    a timestamp, the numbering or the order breaks the chain from that entry on; the version
    prefix lets a future algorithm coexist with archives written by this one.

Retention (§147 AO, §257 HGB)
    The period starts at the end of the calendar year in which the document was received or
    sent (§147 Abs. 4 AO) and lasts a number of full years depending on its category
    (:data:`DEFAULT_RETENTION_YEARS`: 10 years by default, 6 for plain business letters,
    8 for accounting vouchers since the Bürokratieentlastungsgesetz IV). A mail archived
    in 2026 with 10 years retention may therefore be deleted from 2037-01-01 on; the last
    day of retention is 2036-12-31. A legal hold (audit, litigation) extends retention to
    its end date. The calendar year is taken in the merchant's time zone (Europe/Berlin by
    default) so a mail received on New Year's Eve local time is not shifted a year back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

from .errors import PermanentError

CHAIN_VERSION = "gobd-chain-v1"
GENESIS_HASH = "0" * 64
DEFAULT_TIMEZONE = ZoneInfo("Europe/Berlin")
DEFAULT_CATEGORY = "default"
DEFAULT_RETENTION_YEARS: Mapping[str, int] = MappingProxyType(
    {
        DEFAULT_CATEGORY: 10,  # books, records, invoices and everything not classified
        "business_letter": 6,  # received / sent commercial and business letters (Handelsbriefe)
        "accounting_voucher": 8,  # Buchungsbelege, §147 Abs. 3 AO as amended by BEG IV (2025)
    }
)


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The content of an entry was deleted after its retention, by an approved request."""

    deleted_on: date
    approved_by: str
    requested_by: str = ""

    def marker(self) -> str:
        """Return the line shown instead of the message in the index and the manifest."""
        return f"deleted on {self.deleted_on.isoformat()} approved by {self.approved_by}"


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One archived message as stored: raw bytes, digests and the metadata of the index."""

    sequence: int
    archived_at: datetime  # timezone-aware
    raw: bytes
    sha256: str
    chain_hash: str
    message_date: datetime | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    case: str = ""
    category: str = DEFAULT_CATEGORY
    legal_hold_until: date | None = None
    tombstone: Tombstone | None = None  # set: raw is empty, the digest names the old content


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`; ``first_broken_sequence`` is None when ``ok``."""

    ok: bool
    first_broken_sequence: int | None = None
    reason: str = ""
    checked: int = 0


def content_sha256(raw: bytes) -> str:
    """Return the canonical digest of a message: SHA-256 (hex) of its exact raw bytes."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise PermanentError("archive: the raw message must be bytes")
    return hashlib.sha256(raw).hexdigest()


def format_archived_at(archived_at: datetime) -> str:
    """Return ``archived_at`` in the chain's canonical form ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    _require_aware(archived_at, "archived_at")
    return archived_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_chain_hash(
    prev_chain_hash: str, entry_sha256: str, archived_at: datetime, sequence: int
) -> str:
    """Return the ``gobd-chain-v1`` chain hash of one entry (see the module docstring)."""
    for name, value in (("prev_chain_hash", prev_chain_hash), ("entry_sha256", entry_sha256)):
        if not _is_hex64(value):
            raise PermanentError(f"archive: {name} must be 64 lowercase hex digits")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise PermanentError("archive: sequence must be a positive integer")
    text = "|".join(
        (
            CHAIN_VERSION,
            prev_chain_hash,
            entry_sha256,
            format_archived_at(archived_at),
            str(sequence),
        )
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def make_entry(
    raw: bytes,
    archived_at: datetime,
    previous: ArchiveEntry | None,
    **metadata,
) -> ArchiveEntry:
    """Return the entry that follows ``previous`` (None: the first of the archive)."""
    sequence = previous.sequence + 1 if previous else 1
    prev_hash = previous.chain_hash if previous else GENESIS_HASH
    if previous and archived_at < previous.archived_at:
        raise PermanentError("archive: archived_at must not go back in time")
    digest = content_sha256(raw)
    return ArchiveEntry(
        sequence=sequence,
        archived_at=archived_at,
        raw=bytes(raw),
        sha256=digest,
        chain_hash=compute_chain_hash(prev_hash, digest, archived_at, sequence),
        **metadata,
    )


def verify_chain(
    entries: Iterable[ArchiveEntry],
    prev_chain_hash: str = GENESIS_HASH,
    first_sequence: int | None = None,
) -> VerifyResult:
    """Check entries in the given order: content digests, sequence continuity and the chain.

    By default the entries must be a whole archive (starting at sequence 1 after the
    genesis hash); to check a slice pass the ``chain_hash`` of the entry before it as
    ``prev_chain_hash`` (then ``first_sequence`` defaults to the slice's first sequence).
    Reports the first broken entry: a changed byte (content digest mismatch), a changed
    stored hash, a gap, a duplicate or reordered sequence. A tombstone (``tombstone`` set,
    content deleted after retention) has no bytes to digest: its stored digest still
    enters the chain, so the entries around it verify as before.
    """
    expected = first_sequence
    if expected is None and prev_chain_hash == GENESIS_HASH:
        expected = 1
    previous_hash = prev_chain_hash
    checked = 0
    for entry in entries:
        problem = chain_entry_problem(entry, expected, previous_hash)
        if problem:
            return VerifyResult(False, entry.sequence, problem, checked)
        previous_hash = entry.chain_hash
        expected = entry.sequence + 1
        checked += 1
    return VerifyResult(True, None, "", checked)


def chain_entry_problem(entry: ArchiveEntry, expected: int | None, previous_hash: str) -> str:
    """The first reason ``entry`` breaks the chain (sequence, content, hash), or ``""``."""
    if expected is not None and entry.sequence != expected:
        if entry.sequence > expected:
            return f"gap in sequence: expected {expected}, found {entry.sequence}"
        return f"sequence out of order: expected {expected}, found {entry.sequence}"
    if entry.tombstone is not None:
        if entry.raw:
            return "tombstone with content: a deleted entry must not carry a message"
    elif content_sha256(entry.raw) != entry.sha256:
        return "content changed: SHA-256 of the raw message does not match the stored digest"
    try:
        recomputed = compute_chain_hash(
            previous_hash, entry.sha256, entry.archived_at, entry.sequence
        )
    except PermanentError as exc:
        return f"malformed entry: {exc}"
    if recomputed != entry.chain_hash:
        return "chain hash mismatch: stored chain_hash, timestamp or predecessor changed"
    return ""


def retention_end(
    archived_at: datetime,
    category: str = DEFAULT_CATEGORY,
    legal_hold_until: date | None = None,
    retention_years: Mapping[str, int] | None = None,
    tz: tzinfo = DEFAULT_TIMEZONE,
) -> date:
    """Return the last day an entry must be kept (31 December of year + retention years).

    ``archived_at`` is when the mail was received or sent; its calendar year in ``tz``
    starts the period at its end (§147 Abs. 4 AO). Unknown categories fall back to the
    table's ``"default"``; a table without one raises. A later legal hold wins.
    ``retention_years`` maps categories to years (None: :data:`DEFAULT_RETENTION_YEARS`).
    """
    _require_aware(archived_at, "archived_at")
    if retention_years is None:
        retention_years = DEFAULT_RETENTION_YEARS
    years = retention_years.get(category)
    if years is None:
        years = retention_years.get(DEFAULT_CATEGORY)
    if years is None:
        raise PermanentError(f"archive: no retention period for category {category!r}")
    if years < 0:
        raise PermanentError(f"archive: negative retention period for {category!r}")
    end = date(archived_at.astimezone(tz).year + years, 12, 31)
    if legal_hold_until is not None and legal_hold_until > end:
        end = legal_hold_until
    return end


def can_delete(
    entry: ArchiveEntry,
    now: datetime,
    retention_years: Mapping[str, int] | None = None,
    tz: tzinfo = DEFAULT_TIMEZONE,
) -> tuple[bool, str]:
    """Return whether ``entry`` may be deleted at ``now``, and why (English, for the log)."""
    _require_aware(now, "now")
    today = now.astimezone(tz).date()
    end = retention_end(
        entry.archived_at, entry.category, entry.legal_hold_until, retention_years, tz
    )
    if entry.legal_hold_until is not None and entry.legal_hold_until >= today:
        return False, f"legal hold until {entry.legal_hold_until.isoformat()}"
    if today <= end:
        return False, f"retention period runs until {end.isoformat()}"
    return True, f"retention period ended on {end.isoformat()}"


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise PermanentError(f"archive: {name} must be a timezone-aware datetime")


def _is_hex64(value: str) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )
