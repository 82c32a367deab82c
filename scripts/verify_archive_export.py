#!/usr/bin/env python3
"""Check a GoBD mail archive export (the auditor's command; Python 3.10+, standard library only).

    python3 verify_archive_export.py export.zip

Recomputes the SHA-256 of every message file and the hash chain described in the export's
``manifest.json`` (algorithm ``gobd-chain-v1``), checks that the sequence has no gaps, that
the ZIP holds exactly the listed messages and that ``index.csv`` matches its digest.
An entry deleted after its retention period (``"deleted"`` in the manifest: when, approved
by whom) has no message file; its listed SHA-256 still enters the chain, so the chain is
verified through it, and a file for it in the ZIP is an error.
Prints ``OK ...`` and exits with 0, or prints ``BROKEN ...`` naming the first broken entry
and exits with 1.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zipfile

SUPPORTED_VERSIONS = ("gobd-chain-v1",)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


class Broken(Exception):
    """The export does not verify; the message says where and why."""


def chain_hash(version: str, prev: str, sha: str, archived_at: str, sequence: int) -> str:
    text = "|".join((version, prev, sha, archived_at, str(sequence)))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def verify(path: str) -> str:
    """Return a one-line OK summary or raise :class:`Broken`."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise Broken(f"cannot read {path}: {exc}") from exc
    with archive:
        manifest = _manifest(archive)
        version = manifest["algorithm"]["version"]
        if version not in SUPPORTED_VERSIONS:
            raise Broken(f"unknown chain algorithm {version!r}")
        entries = manifest["entries"]
        if manifest.get("entry_count") != len(entries):
            raise Broken("manifest entry_count does not match its entries")
        previous = manifest["prev_chain_hash"]
        if not _HEX64.fullmatch(str(previous)):
            raise Broken("manifest prev_chain_hash is not a SHA-256 hex digest")
        expected_sequence = None
        for entry in entries:
            _check_entry(archive, version, entry, previous, expected_sequence)
            previous = entry["chain_hash"]
            expected_sequence = entry["sequence"] + 1
        if manifest.get("last_chain_hash") != previous:
            raise Broken("manifest last_chain_hash does not match the last entry")
        _check_index(archive, manifest)
        listed = {entry["file"] for entry in entries if not entry.get("deleted")}
        extra = sorted(n for n in archive.namelist() if n.startswith("eml/") and n not in listed)
        if extra:
            raise Broken(f"message file not in the manifest: {extra[0]}")
    deleted = sum(1 for entry in entries if entry.get("deleted"))
    note = f" ({deleted} deleted after retention, chain checked)" if deleted else ""
    return f"OK {len(entries)} entries verified{note}, last chain hash {previous}"


def _manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json").decode("utf-8"))
        manifest["algorithm"]["version"]
        manifest["entries"]
        manifest["prev_chain_hash"]
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise Broken(f"manifest.json missing or unreadable: {exc}") from exc
    return manifest


def _check_index(archive: zipfile.ZipFile, manifest: dict) -> None:
    expected = manifest.get("index_sha256")
    if expected is None:
        return  # exports written before the index digest existed
    try:
        data = archive.read("index.csv")
    except (KeyError, zipfile.BadZipFile) as exc:
        raise Broken(f"index.csv missing or damaged ({exc})") from exc
    if hashlib.sha256(data).hexdigest() != expected:
        raise Broken("index.csv changed: SHA-256 does not match the manifest")


def _check_entry(archive, version, entry, previous, expected_sequence) -> None:
    try:
        sequence = entry["sequence"]
        sha, stored, name, archived_at = (
            entry["sha256"],
            entry["chain_hash"],
            entry["file"],
            entry["archived_at"],
        )
    except (KeyError, TypeError) as exc:
        raise Broken(f"malformed manifest entry {entry!r}") from exc
    where = f"entry {sequence} ({name or 'deleted'})"
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise Broken(f"{where}: sequence is not a positive integer")
    if expected_sequence is not None and sequence != expected_sequence:
        kind = "gap in sequence" if sequence > expected_sequence else "sequence out of order"
        raise Broken(f"{where}: {kind}, expected {expected_sequence}")
    if not _TIMESTAMP.fullmatch(str(archived_at)):
        raise Broken(f"{where}: archived_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if entry.get("deleted"):
        _check_tombstone(where, entry)
    else:
        try:
            data = archive.read(name)
        except (KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise Broken(f"{where}: message file missing or damaged ({exc})") from exc
        if hashlib.sha256(data).hexdigest() != sha:
            raise Broken(f"{where}: content changed, SHA-256 of the file does not match")
    if not _HEX64.fullmatch(str(sha)):
        raise Broken(f"{where}: sha256 is not a SHA-256 hex digest")
    if chain_hash(version, previous, sha, archived_at, sequence) != stored:
        raise Broken(f"{where}: chain hash mismatch")


def _check_tombstone(where: str, entry: dict) -> None:
    """A deleted entry: no file, and who approved the deletion when."""
    deleted = entry["deleted"]
    if entry.get("file") is not None:
        raise Broken(f"{where}: a deleted entry must not list a message file")
    if (
        not isinstance(deleted, dict)
        or not deleted.get("deleted_on")
        or not deleted.get("approved_by")
    ):
        raise Broken(f"{where}: deletion without date or approver")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: verify_archive_export.py <export.zip>", file=sys.stderr)
        return 2
    try:
        print(verify(args[0]))
    except Broken as exc:
        print(f"BROKEN {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
