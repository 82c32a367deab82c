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

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone, tzinfo
from types import MappingProxyType
from typing import BinaryIO
from zoneinfo import ZoneInfo

from .errors import PermanentError

CHAIN_VERSION = "gobd-chain-v1"
GENESIS_HASH = "0" * 64
EXPORT_FORMAT = "gobd-mail-archive-export"
EXPORT_FORMAT_VERSION = 2  # 2: entries deleted after retention appear as tombstones
CHECK_SCRIPT_NAME = "verify_archive_export.py"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed: the same entries give the same ZIP bytes
DEFAULT_TIMEZONE = ZoneInfo("Europe/Berlin")
DEFAULT_CATEGORY = "default"
DEFAULT_RETENTION_YEARS: Mapping[str, int] = MappingProxyType(
    {
        DEFAULT_CATEGORY: 10,  # books, records, invoices and everything not classified
        "business_letter": 6,  # received / sent commercial and business letters (Handelsbriefe)
        "accounting_voucher": 8,  # Buchungsbelege, §147 Abs. 3 AO as amended by BEG IV (2025)
    }
)
ALGORITHM_DESCRIPTION = (
    "entry_sha256 = SHA-256 (lowercase hex) of the exact bytes of eml/<file>. "
    "chain_hash = SHA-256 (lowercase hex) of the ASCII string "
    "'gobd-chain-v1|' + prev_chain_hash + '|' + entry_sha256 + '|' + archived_at + '|' + "
    "sequence, where prev_chain_hash is the chain_hash of the previous sequence "
    "(64 zeros before sequence 1), archived_at is UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ and "
    "sequence is a decimal integer; sequences increase by exactly 1."
)
INDEX_COLUMNS = (
    "sequence",
    "date",
    "sender",
    "recipients",
    "subject",
    "case",
    "sha256",
    "chain_hash",
    "archived_at",
    "file",
    "deleted",
)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
        problem = _entry_problem(entry, expected, previous_hash)
        if problem:
            return VerifyResult(False, entry.sequence, problem, checked)
        previous_hash = entry.chain_hash
        expected = entry.sequence + 1
        checked += 1
    return VerifyResult(True, None, "", checked)


def _entry_problem(entry: ArchiveEntry, expected: int | None, previous_hash: str) -> str:
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


def build_export(
    entries: Iterable[ArchiveEntry],
    date_from: date,
    date_to: date,
    prev_chain_hash: str | None = None,
    tz: tzinfo = DEFAULT_TIMEZONE,
    check_script: bytes | None = None,
) -> bytes:
    """Return the tax-audit ZIP of the entries archived between two dates (inclusive, ``tz``).

    ``entries`` may hold the whole archive in any order; see :func:`write_export`, which
    streams the same ZIP into a file for archives too large for memory.
    """
    buffer = io.BytesIO()
    write_export(
        buffer,
        sorted(entries, key=lambda e: e.sequence),
        date_from,
        date_to,
        prev_chain_hash,
        tz,
        check_script,
    )
    return buffer.getvalue()


def write_export(
    out: BinaryIO,
    entries: Iterable[ArchiveEntry],
    date_from: date,
    date_to: date,
    prev_chain_hash: str | None = None,
    tz: tzinfo = DEFAULT_TIMEZONE,
    check_script: bytes | None = None,
) -> dict:
    """Write the tax-audit ZIP into ``out``, reading ``entries`` once; return the manifest.

    ``entries`` come in ascending sequence (hence archiving time) order - e.g. a generator
    loading one message at a time - starting anywhere before the period; only the ones
    archived from ``date_from`` to ``date_to`` (calendar days in ``tz``) are exported, and
    iteration stops at the first later one. The chain hash preceding the period is taken
    from the entry before it or given as ``prev_chain_hash``. Every exported entry is
    verified on the way: a broken chain raises :class:`PermanentError` naming the entry -
    a person must look at it before anything is handed to an auditor.

    The ZIP holds ``eml/<sequence>_<sha256>.eml`` (the raw messages), ``index.csv``
    (UTF-8 with BOM, ``;``, for Excel), ``manifest.json``, ``README.txt`` and, when given,
    ``check_script`` (the bytes of ``scripts/verify_archive_export.py``, read by the caller)
    as ``verify_archive_export.py``. The same entries always give the same bytes.

    An entry whose content was deleted after its retention (a tombstone) is listed in the
    index and the manifest with its digest, its chain hash and the marker "deleted on ...
    approved by ..."; it has no ``.eml`` file (``file`` is empty / null) and the chain runs
    through it unchanged.
    """
    if date_from > date_to:
        raise PermanentError("archive export: date_from is after date_to")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        exported, sizes, anchor = _write_messages(
            archive, entries, date_from, date_to, prev_chain_hash, tz
        )
        manifest = _write_listing(
            archive, exported, sizes, anchor, date_from, date_to, check_script
        )
    return manifest


def _write_messages(
    archive: zipfile.ZipFile,
    entries: Iterable[ArchiveEntry],
    date_from: date,
    date_to: date,
    prev_chain_hash: str | None,
    tz: tzinfo,
) -> tuple[list[ArchiveEntry], list[int], str]:
    """Write the raw messages of the period, verifying the chain on the way.

    Return the exported entries (without their raw bytes), their sizes and the chain hash
    preceding the period (see :func:`write_export`).
    """
    before: ArchiveEntry | None = None
    anchor = previous_hash = prev_chain_hash
    expected: int | None = None
    exported: list[ArchiveEntry] = []  # without their raw bytes: metadata for index/manifest
    sizes: list[int] = []
    for entry in entries:
        day = entry.archived_at.astimezone(tz).date()
        if day < date_from:
            before = entry
            continue
        if day > date_to:
            break
        if not exported:
            anchor = previous_hash = _anchor_hash(entry, before, prev_chain_hash)
            expected = entry.sequence
        problem = _entry_problem(entry, expected, previous_hash)
        if problem:
            raise PermanentError(
                f"archive export: chain broken at sequence {entry.sequence}: {problem}"
            )
        if entry.tombstone is None:
            _write(archive, export_file_name(entry), entry.raw)
        exported.append(replace(entry, raw=b""))
        sizes.append(len(entry.raw))
        previous_hash, expected = entry.chain_hash, entry.sequence + 1
    anchor = anchor if anchor is not None else _anchor_hash(None, before, None)
    return exported, sizes, anchor


def _write_listing(
    archive: zipfile.ZipFile,
    exported: list[ArchiveEntry],
    sizes: list[int],
    anchor: str,
    date_from: date,
    date_to: date,
    check_script: bytes | None,
) -> dict:
    """Write ``index.csv``, ``manifest.json``, ``README.txt`` (and the check script)."""
    index = _index_csv(exported)
    manifest = _manifest(exported, sizes, anchor, date_from, date_to)
    manifest["index_sha256"] = hashlib.sha256(index).hexdigest()
    _write(archive, "index.csv", index)
    _write(archive, "manifest.json", _json_bytes(manifest))
    _write(archive, "README.txt", _readme(manifest).encode("utf-8"))
    if check_script is not None:
        _write(archive, CHECK_SCRIPT_NAME, bytes(check_script))
    return manifest


def export_file_name(entry: ArchiveEntry) -> str:
    """Return the path of ``entry``'s raw message inside the export ZIP."""
    return f"eml/{entry.sequence:010d}_{entry.sha256}.eml"


def _anchor_hash(first: ArchiveEntry | None, before: ArchiveEntry | None, given: str | None) -> str:
    """Return the chain hash preceding ``first`` (the first exported entry)."""
    if given is not None:
        return given
    if first is None:  # nothing exported: the chain stands where it stood before the period
        return before.chain_hash if before else GENESIS_HASH
    if first.sequence == 1:
        return GENESIS_HASH
    if before is None or before.sequence != first.sequence - 1:
        raise PermanentError(
            f"archive export: the chain hash before sequence {first.sequence} is "
            "needed (pass the preceding entry or prev_chain_hash)"
        )
    return before.chain_hash


def _manifest(
    entries: list[ArchiveEntry], sizes: list[int], anchor: str, date_from: date, date_to: date
) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "algorithm": {
            "version": CHAIN_VERSION,
            "hash": "sha256",
            "description": ALGORITHM_DESCRIPTION,
        },
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "entry_count": len(entries),
        "prev_chain_hash": anchor,
        "first_chain_hash": entries[0].chain_hash if entries else None,
        "last_chain_hash": entries[-1].chain_hash if entries else anchor,
        "deleted_count": sum(1 for e in entries if e.tombstone is not None),
        "entries": [_manifest_entry(e, size) for e, size in zip(entries, sizes, strict=True)],
    }


def _manifest_entry(entry: ArchiveEntry, size: int) -> dict:
    item = {
        "sequence": entry.sequence,
        "archived_at": format_archived_at(entry.archived_at),
        "sha256": entry.sha256,
        "chain_hash": entry.chain_hash,
        "file": export_file_name(entry),
        "size": size,
    }
    if entry.tombstone is not None:
        item["file"] = None
        item["deleted"] = {
            "deleted_on": entry.tombstone.deleted_on.isoformat(),
            "approved_by": entry.tombstone.approved_by,
            "requested_by": entry.tombstone.requested_by,
            "note": entry.tombstone.marker(),
        }
    return item


def _index_csv(entries: list[ArchiveEntry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(INDEX_COLUMNS)
    for e in entries:
        when = e.message_date or e.archived_at
        writer.writerow(
            (
                e.sequence,
                when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
                if when.tzinfo
                else when.strftime("%Y-%m-%d %H:%M:%S"),
                _cell(e.sender),
                _cell(", ".join(e.recipients)),
                _cell(e.subject),
                _cell(e.case),
                e.sha256,
                e.chain_hash,
                format_archived_at(e.archived_at),
                export_file_name(e) if e.tombstone is None else "",
                _cell(e.tombstone.marker()) if e.tombstone is not None else "",
            )
        )
    return out.getvalue().encode("utf-8-sig")


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): Excel would run ``=HYPERLINK(...)``."""
    value = (value or "").replace("\x00", "")
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _readme(manifest: dict) -> str:
    return (
        "GoBD mail archive export\n"
        "========================\n\n"
        f"Period: {manifest['date_from']} to {manifest['date_to']}, "
        f"{manifest['entry_count']} messages.\n\n"
        "eml/           the messages, byte for byte as received or sent (RFC 822 / .eml)\n"
        "index.csv      one line per message (UTF-8 with BOM, separator ';', opens in Excel)\n"
        "manifest.json  digests and hash chain of every message\n\n"
        f"{_deleted_note(manifest['deleted_count'])}"
        "Integrity check (Python 3.10 or later, no other software needed):\n\n"
        "    python3 verify_archive_export.py <this file>.zip\n\n"
        "The check recomputes the SHA-256 of every file in eml/, of index.csv and the hash\n"
        "chain; it prints OK and exits with 0, or names the first broken entry and exits\n"
        "with 1.\n\n"
        f"Algorithm {CHAIN_VERSION}: {ALGORITHM_DESCRIPTION}\n\n"
        f"prev_chain_hash  {manifest['prev_chain_hash']}\n"
        f"last_chain_hash  {manifest['last_chain_hash']}\n"
    )


def _deleted_note(count: int) -> str:
    if not count:
        return ""
    return (
        f"{count} of these messages were deleted after their retention period (column\n"
        "'deleted' of index.csv: when and approved by whom). They have no file in eml/;\n"
        "their SHA-256 and chain hash stay listed, so the chain still verifies.\n\n"
    )


def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the exporting machine runs
    info.external_attr = 0o100644 << 16
    archive.writestr(info, data)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise PermanentError(f"archive: {name} must be a timezone-aware datetime")


def _is_hex64(value: str) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )
