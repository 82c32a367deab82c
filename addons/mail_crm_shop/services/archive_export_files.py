"""The files of a tax-audit export: where each message goes, ``index.csv``, the manifest
and ``README.txt``, and how a file is written into the ZIP (the same bytes every time).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timezone

from .archive import CHAIN_VERSION, ArchiveEntry, format_archived_at

EXPORT_FORMAT = "gobd-mail-archive-export"
EXPORT_FORMAT_VERSION = 2  # 2: entries deleted after retention appear as tombstones
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed: the same entries give the same ZIP bytes
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


def export_file_name(entry: ArchiveEntry) -> str:
    """Return the path of ``entry``'s raw message inside the export ZIP."""
    return f"eml/{entry.sequence:010d}_{entry.sha256}.eml"


def export_manifest(
    entries: list[ArchiveEntry], sizes: list[int], anchor: str, date_from: date, date_to: date
) -> dict:
    """The data of ``manifest.json``: format, algorithm, period, hash chain and each entry."""
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


def export_index_csv(entries: list[ArchiveEntry]) -> bytes:
    """Return ``index.csv``: one line per entry, UTF-8 with BOM, ``;``-separated (Excel)."""
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


def export_readme(manifest: dict) -> str:
    """Return the text of ``README.txt`` for the export described by ``manifest``."""
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


def json_bytes(data: dict) -> bytes:
    """Return ``data`` as indented UTF-8 JSON with sorted keys (the same bytes every time)."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_zip_member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Write ``data`` as ``name`` into ``archive`` with a fixed timestamp and file mode."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the exporting machine runs
    info.external_attr = 0o100644 << 16
    archive.writestr(info, data)
