"""Pick up bank statement files (CAMT.053, CSV) from a folder, one file at a time.

For each waiting file: read it, hand it to ``store`` (the caller parses it, stores its
movements and commits), and only then move it to ``done/``; a file ``store`` refuses
with a :class:`PermanentError` (malformed, another account's statement) goes to
``error/`` with a ``<name>.reason.txt`` beside it. Any other failure ends the run and
leaves the file where it is, so it is read again next time: ``store`` must be idempotent
(the movements' unique keys make a second import of the same file store nothing).

A folder is anything with ``list_files()``, ``download(name)`` and ``move(name,
folder, reason)``; :class:`LocalStatementFolder` is a directory on the server,
:class:`FtpStatementFolder` a folder on an FTP server (explicit FTPS on request).
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import os
import posixpath
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...mail_crm_shop.services.errors import PermanentError, TransientError

FOLDERS = ("done", "error")
SUFFIXES = {".xml": "camt", ".camt": "camt", ".053": "camt", ".csv": "csv", ".txt": "csv"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,200}")
MAX_FILE_BYTES = 50 * 1024 * 1024


class StatementFolder(Protocol):
    def list_files(self) -> list[str]: ...

    def download(self, name: str) -> bytes: ...

    def move(self, name: str, folder: str, reason: str = "") -> str: ...


@dataclass(frozen=True, slots=True)
class PickedFile:
    """What became of one file: moved to ``done`` or ``error`` with the note or reason."""

    name: str
    moved_to: str
    note: str


def file_format(name: str) -> str:
    """``"camt"`` or ``"csv"`` from the file name's suffix; a PermanentError otherwise."""
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise PermanentError(f"{name}: not a statement file (.xml for CAMT.053, .csv)")
    return kind


def safe_name(name: str) -> str:
    """``name`` if it is a plain file name (no path, no leading dot), else PermanentError."""
    if not _SAFE_NAME.fullmatch(name) or name.endswith(".part"):
        raise PermanentError(f"unsafe or partial file name {name!r}")
    return name


class LocalStatementFolder:
    """A directory on the server: files wait in it, ``done/`` and ``error/`` beneath it."""

    def __init__(self, path: str):
        if not path or not os.path.isabs(path):
            raise PermanentError(f"the statement folder must be an absolute path, not {path!r}")
        self.root = Path(path)
        if not self.root.is_dir():
            raise PermanentError(f"statement folder {path} does not exist")

    def list_files(self) -> list[str]:
        """Waiting files, sorted by name (folders, hidden and ``.part`` files skipped)."""
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_file() and not entry.name.startswith(".") and entry.suffix != ".part"
        )

    def download(self, name: str) -> bytes:
        path = self.root / safe_name(name)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PermanentError(f"{name}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        return path.read_bytes()

    def move(self, name: str, folder: str, reason: str = "") -> str:
        """Move ``name`` into ``done/`` or ``error/`` (an older file there is replaced);
        ``reason`` is written beside it as ``<name>.reason.txt``."""
        if folder not in FOLDERS:
            raise PermanentError(f"unknown folder {folder!r}")
        target_dir = self.root / folder
        target_dir.mkdir(exist_ok=True)
        target = target_dir / safe_name(name)
        if reason:
            (target_dir / f"{name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        os.replace(self.root / name, target)
        return str(target)


@dataclass(frozen=True, slots=True)
class FtpFolderSettings:
    """An FTP folder with statement files; ``tls``: explicit FTPS (``AUTH TLS``)."""

    host: str
    port: int = 21
    user: str = "anonymous"
    password: str = ""
    path: str = "/"
    tls: bool = False
    timeout: float = 30.0


_FTP_ERRORS = (ftplib.Error, OSError, EOFError)


class FtpStatementFolder:
    """A folder on an FTP server; one session, closed with :meth:`close` (or ``with``).

    Errors become :class:`PermanentError` (5xx: refused login, missing folder) or
    :class:`TransientError` (4xx, connection lost, timeout).
    """

    def __init__(self, settings: FtpFolderSettings):
        self.settings = settings
        self._ftp: ftplib.FTP | None = None

    def __enter__(self) -> FtpStatementFolder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _session(self) -> ftplib.FTP:
        if self._ftp is None:
            s = self.settings
            ftp = (
                ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=s.timeout)
                if s.tls
                else ftplib.FTP(timeout=s.timeout)
            )
            try:
                ftp.connect(s.host, s.port, timeout=s.timeout)
                ftp.login(s.user, s.password)
                if s.tls:
                    ftp.prot_p()
            except (*_FTP_ERRORS, ssl.SSLError) as exc:
                ftp.close()
                raise _ftp_error(exc, f"connect to {s.host}:{s.port}") from exc
            self._ftp = ftp
        return self._ftp

    def _run(self, action: str, func):
        ftp = self._session()
        try:
            return func(ftp)
        except _FTP_ERRORS as exc:
            raise _ftp_error(exc, action) from exc

    def close(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            try:
                ftp.quit()
            except _FTP_ERRORS:
                ftp.close()

    def list_files(self) -> list[str]:
        """Waiting files, sorted by name (folders, hidden and ``.part`` files skipped)."""

        def listing(ftp: ftplib.FTP) -> list[str]:
            try:
                entries = [
                    (posixpath.basename(name), facts.get("type", "file"))
                    for name, facts in ftp.mlsd(self.settings.path, facts=["type"])
                ]
            except ftplib.error_perm:  # no MLSD: NLST lists folders too, they fail later
                entries = [(posixpath.basename(n), "file") for n in ftp.nlst(self.settings.path)]
            return sorted(
                name
                for name, kind in entries
                if kind == "file"
                and name not in FOLDERS
                and not name.startswith(".")
                and not name.endswith(".part")
            )

        return self._run("list", listing)

    def download(self, name: str) -> bytes:
        path = posixpath.join(self.settings.path, safe_name(name))
        chunks: list[bytes] = []
        size = [0]

        def keep(chunk: bytes) -> None:
            size[0] += len(chunk)
            if size[0] > MAX_FILE_BYTES:
                raise PermanentError(f"{name}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
            chunks.append(chunk)

        self._run(f"download {name}", lambda ftp: ftp.retrbinary(f"RETR {path}", keep))
        return b"".join(chunks)

    def move(self, name: str, folder: str, reason: str = "") -> str:
        """Move ``name`` into ``done/`` or ``error/`` (created if missing, an older file
        there replaced); ``reason`` is uploaded beside it as ``<name>.reason.txt``."""
        if folder not in FOLDERS:
            raise PermanentError(f"unknown folder {folder!r}")
        base = self.settings.path
        target_dir = posixpath.join(base, folder)
        source = posixpath.join(base, safe_name(name))
        target = posixpath.join(target_dir, name)

        def rename(ftp: ftplib.FTP) -> None:
            with contextlib.suppress(ftplib.error_perm):
                ftp.mkd(target_dir)
            if reason:
                note = io.BytesIO((reason + "\n").encode("utf-8"))
                ftp.storbinary(f"STOR {target}.reason.txt", note)
            with contextlib.suppress(ftplib.error_perm):
                ftp.delete(target)
            ftp.rename(source, target)

        self._run(f"move {name} to {folder}", rename)
        return target


def _ftp_error(exc: BaseException, action: str) -> Exception:
    text = f"FTP {action}: {exc}".strip()
    if isinstance(exc, (ftplib.error_perm, ssl.SSLCertVerificationError)):
        return PermanentError(text)
    return TransientError(text)


def pick_up(
    folder: StatementFolder,
    store: Callable[[str, bytes], str],
    limit: int | None = None,
) -> list[PickedFile]:
    """Handle up to ``limit`` waiting files in name order; return what became of them.

    ``store(name, content)`` returns a note for ``done/`` or raises PermanentError for a
    file that cannot be used (it goes to ``error/`` with the reason). A file with an
    unsafe name is not read: it goes to ``error/`` if the folder can move it, else stays.
    """
    picked = []
    names = folder.list_files()
    for name in names[:limit] if limit is not None else names:
        try:
            safe_name(name)
            content = folder.download(name)
            note = store(name, content)
        except PermanentError as exc:
            reason = str(exc)
            try:
                folder.move(name, "error", reason)
            except PermanentError:
                picked.append(PickedFile(name, "", reason))
                continue
            picked.append(PickedFile(name, "error", reason))
            continue
        folder.move(name, "done", note)
        picked.append(PickedFile(name, "done", note))
    return picked
