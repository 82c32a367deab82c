"""Fetch confirmation files from an FTP/SFTP folder, one file at a time, nothing lost.

For each waiting file: check its name, download, parse, hand the outcome to ``store``
(the caller's commit), and only then move the file to ``done/`` (parsed, possibly with
rejected rows) or ``error/`` (unreadable). If ``store`` raises, the file stays where it
is and is read again next time, so ``store`` must be idempotent on the file name. A file
with an unsafe name is never downloaded or moved (its name would be used as a path), nor
is one the server refuses to hand out; both are reported every time and left for a
person. A transient error (connection lost) ends the run; the files not yet handled stay
in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ...mail_crm_shop.services.errors import PermanentError
from ..services.confirmation import ConfirmationBatch, safe_file_name


class ConfirmationFolder(Protocol):
    def list_files(self) -> list[str]: ...

    def download(self, name: str) -> bytes: ...

    def move(self, name: str, folder: str) -> str: ...


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one remote file."""

    name: str
    batch: ConfirmationBatch | None  # None: the file was refused as a whole
    error: str  # why it was refused ("" when parsed)
    moved_to: str  # "done", "error", or "" (left in place: unsafe name, unreadable)
    content: bytes = b""  # the raw file, for the caller to keep as evidence


def poll_confirmations(
    folder: ConfirmationFolder,
    parse: Callable[[str, bytes], ConfirmationBatch],
    store: Callable[[FileOutcome], None],
    limit: int | None = None,
) -> list[FileOutcome]:
    """Handle up to ``limit`` waiting files; return their outcomes in order.

    ``parse(name, content)`` raises :class:`PermanentError` for a file that cannot be
    used at all. ``store(outcome)`` is called before the file is moved (with
    ``moved_to`` set to where it will go).
    """
    outcomes = []
    names = folder.list_files()
    for name in names[:limit] if limit is not None else names:
        try:
            safe_file_name(name)
        except PermanentError as exc:
            outcome = FileOutcome(name, None, str(exc), "")
            store(outcome)
            outcomes.append(outcome)
            continue
        try:
            content = folder.download(name)
        except PermanentError as exc:  # vanished, unreadable, or not a file after all
            outcome = FileOutcome(name, None, str(exc), "")
            store(outcome)
            outcomes.append(outcome)
            continue
        try:
            batch = parse(name, content)
        except PermanentError as exc:
            outcome = FileOutcome(name, None, str(exc), "error", content)
        else:
            outcome = FileOutcome(name, batch, "", "done", content)
        store(outcome)
        folder.move(name, outcome.moved_to)
        outcomes.append(outcome)
    return outcomes
