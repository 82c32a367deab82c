"""The tax-audit export of the mail archive: a verifiable ZIP of the mails of a period.

The chain it carries is described in the docstring of :mod:`.archive`.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, tzinfo
from typing import BinaryIO

from .archive import DEFAULT_TIMEZONE, GENESIS_HASH, ArchiveEntry, chain_entry_problem
from .archive_export_files import (
    export_file_name,
    export_index_csv,
    export_manifest,
    export_readme,
    json_bytes,
    write_zip_member,
)
from .errors import PermanentError

CHECK_SCRIPT_NAME = "verify_archive_export.py"


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
        problem = chain_entry_problem(entry, expected, previous_hash)
        if problem:
            raise PermanentError(
                f"archive export: chain broken at sequence {entry.sequence}: {problem}"
            )
        if entry.tombstone is None:
            write_zip_member(archive, export_file_name(entry), entry.raw)
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
    index = export_index_csv(exported)
    manifest = export_manifest(exported, sizes, anchor, date_from, date_to)
    manifest["index_sha256"] = hashlib.sha256(index).hexdigest()
    write_zip_member(archive, "index.csv", index)
    write_zip_member(archive, "manifest.json", json_bytes(manifest))
    write_zip_member(archive, "README.txt", export_readme(manifest).encode("utf-8"))
    if check_script is not None:
        write_zip_member(archive, CHECK_SCRIPT_NAME, bytes(check_script))
    return manifest


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
