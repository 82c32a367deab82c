"""Folders files are picked up from: on this server, on an FTP(S) or on an SFTP server.

Every folder offers the same four operations:

- ``list_files()``: the waiting files, sorted by name; folders, hidden files (leading
  dot) and ``.part`` uploads are skipped;
- ``download(name)``: the content (refused above :data:`MAX_FILE_BYTES`);
- ``move(name, folder, reason)``: into ``done/`` or ``error/`` beneath the folder
  (created when missing), with ``reason`` written beside it as ``<name>.reason.txt``.
  A file there is never overwritten: on a name clash the moved file gets a counter
  (``orders.csv`` becomes ``orders-2.csv``); the final path is returned;
- ``restore(name)``: a file of ``error/`` back into the folder, to be read again.

Names come from outside and are never used as paths: anything but a plain file name
(``..``, ``/``, a leading dot, control characters) is a :class:`PermanentError`.
Errors of the remote side become :class:`PermanentError` (refused login, missing
folder, untrusted certificate or host key) or :class:`TransientError` (timeout,
dropped connection, 4xx answers): nothing is moved then, the next run tries again.

:func:`pick_up` drives a folder: read a file, hand it to the caller's ``store`` (which
commits), and only then move it to ``done/``.
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import os
import posixpath
import re
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

import paramiko

from ...mail_crm_shop.adapters.sftp import SftpSession, pinned_key  # noqa: F401 (re-export)
from ...mail_crm_shop.services.errors import PermanentError, TransientError

FOLDERS = ("done", "error")
PART_SUFFIX = ".part"
REASON_SUFFIX = ".reason.txt"
MAX_FILE_BYTES = 50 * 1024 * 1024
# letters (umlauts too), digits and a few harmless signs; never "/", "\\", a leading dot
_SAFE_NAME = re.compile(r"[^\W_][\w.,()+ -]{0,200}")


class RemoteFolder(Protocol):
    def list_files(self) -> list[str]: ...

    def download(self, name: str) -> bytes: ...

    def move(self, name: str, folder: str, reason: str = "") -> str: ...


@dataclass(frozen=True, slots=True)
class PickedFile:
    """What became of one file: moved to ``done`` or ``error`` with the note or reason."""

    name: str
    moved_to: str
    note: str


def safe_name(name: str) -> str:
    """``name`` if it is a plain file name (no path, no leading dot), else PermanentError."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or name.endswith(PART_SUFFIX):
        raise PermanentError(f"unsafe or partial file name {name!r}")
    if ".." in name:
        raise PermanentError(f"unsafe or partial file name {name!r}")
    return name


def is_waiting(name: str) -> bool:
    """Whether a listed entry is a file to read (not hidden, not a partial upload)."""
    return (
        bool(name)
        and name not in FOLDERS
        and not name.startswith(".")
        and not name.endswith(PART_SUFFIX)
    )


def free_name(name: str, taken: set[str] | frozenset[str]) -> str:
    """``name``, or ``<stem>-2<suffix>``, ``-3``… when a file of that name exists already
    (the suffix is kept: the file's format is still recognised by it)."""
    if name not in taken:
        return name
    path = PurePosixPath(name)
    stem, suffix = (path.stem, path.suffix) if path.stem else (name, "")
    counter = 2
    while f"{stem}-{counter}{suffix}" in taken:
        counter += 1
    return f"{stem}-{counter}{suffix}"


def _check_folder(folder: str) -> str:
    if folder not in FOLDERS:
        raise PermanentError(f"unknown folder {folder!r}")
    return folder


def _too_large(name: str) -> PermanentError:
    return PermanentError(f"{name}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB")


# --- a directory on this server ------------------------------------------------------


class LocalFolder:
    """A directory on the server: files wait in it, ``done/`` and ``error/`` beneath it."""

    def __init__(self, path: str):
        if not path or not os.path.isabs(path):
            raise PermanentError(f"the folder must be an absolute path, not {path!r}")
        self.root = Path(path)
        if not self.root.is_dir():
            raise PermanentError(f"folder {path} does not exist")

    def __enter__(self) -> LocalFolder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to close (the same interface as the remote folders)."""

    def list_files(self) -> list[str]:
        """Waiting files, sorted by name (folders, hidden and ``.part`` files skipped)."""
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_file() and is_waiting(entry.name)
        )

    def download(self, name: str) -> bytes:
        path = self.root / safe_name(name)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _too_large(name)
        return path.read_bytes()

    def move(self, name: str, folder: str, reason: str = "") -> str:
        """Move ``name`` into ``done/`` or ``error/`` under a free name; return the path."""
        target_dir = self.root / _check_folder(folder)
        source = self.root / safe_name(name)
        target_dir.mkdir(exist_ok=True)
        taken = {entry.name for entry in target_dir.iterdir()}
        final = free_name(name, taken)
        if reason:
            (target_dir / f"{final}{REASON_SUFFIX}").write_text(reason + "\n", encoding="utf-8")
        os.rename(source, target_dir / final)  # the name is free: nothing is replaced
        return str(target_dir / final)

    def restore(self, name: str) -> str:
        """Move ``error/<name>`` back into the folder (under a free name) to be read again."""
        error_dir = self.root / "error"
        source = error_dir / safe_name(name)
        final = free_name(name, {entry.name for entry in self.root.iterdir()})
        os.rename(source, self.root / final)
        with contextlib.suppress(FileNotFoundError):
            (error_dir / f"{name}{REASON_SUFFIX}").unlink()
        return str(self.root / final)

    def failed_files(self) -> list[str]:
        """The files in ``error/`` (without their reason notes)."""
        error_dir = self.root / "error"
        if not error_dir.is_dir():
            return []
        return sorted(
            entry.name
            for entry in error_dir.iterdir()
            if entry.is_file() and is_waiting(entry.name) and not entry.name.endswith(REASON_SUFFIX)
        )


# --- FTP and explicit FTPS -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FtpFolderSettings:
    """A folder on an FTP server; ``tls``: explicit FTPS (``AUTH TLS``)."""

    host: str
    port: int = 21
    user: str = "anonymous"
    password: str = ""
    path: str = "/"
    tls: bool = False
    timeout: float = 30.0


_FTP_ERRORS = (ftplib.Error, OSError, EOFError)


def _ftp_error(exc: BaseException, action: str) -> Exception:
    text = f"FTP {action}: {exc}".strip()
    if isinstance(exc, (ftplib.error_perm, ssl.SSLCertVerificationError)):
        return PermanentError(text)
    return TransientError(text)


class FtpFolder:
    """A folder on an FTP server; one session, closed with :meth:`close` (or ``with``)."""

    def __init__(self, settings: FtpFolderSettings):
        self.settings = settings
        self._ftp: ftplib.FTP | None = None

    def __enter__(self) -> FtpFolder:
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
            error = _ftp_error(exc, action)
            if isinstance(error, TransientError):
                self._drop()  # the session state is unknown: reconnect next time
            raise error from exc

    def _drop(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            with contextlib.suppress(*_FTP_ERRORS):
                ftp.close()

    def close(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            try:
                ftp.quit()
            except _FTP_ERRORS:
                ftp.close()

    @staticmethod
    def _entries(ftp: ftplib.FTP, path: str) -> list[tuple[str, str]]:
        """``(name, type)`` of a folder; ``type`` is ``file`` when the server cannot tell."""
        try:
            return [
                (posixpath.basename(name), facts.get("type", "file"))
                for name, facts in ftp.mlsd(path, facts=["type"])
            ]
        except ftplib.error_perm:  # no MLSD: NLST lists folders too, they fail later
            return [(posixpath.basename(n), "file") for n in ftp.nlst(path)]

    def _names(self, ftp: ftplib.FTP, path: str) -> set[str]:
        try:
            return {name for name, _kind in self._entries(ftp, path)}
        except ftplib.error_perm:
            return set()  # no such folder (yet)

    def list_files(self) -> list[str]:
        """Waiting files, sorted by name (folders, hidden and ``.part`` files skipped)."""

        def listing(ftp: ftplib.FTP) -> list[str]:
            return sorted(
                name
                for name, kind in self._entries(ftp, self.settings.path)
                if kind == "file" and is_waiting(name)
            )

        return self._run("list", listing)

    def download(self, name: str) -> bytes:
        path = posixpath.join(self.settings.path, safe_name(name))
        chunks: list[bytes] = []
        size = [0]

        def keep(chunk: bytes) -> None:
            size[0] += len(chunk)
            if size[0] > MAX_FILE_BYTES:
                raise _too_large(name)
            chunks.append(chunk)

        self._run(f"download {name}", lambda ftp: ftp.retrbinary(f"RETR {path}", keep))
        return b"".join(chunks)

    def _rename_free(self, source: str, target_dir: str, name: str, reason: str) -> str:
        def rename(ftp: ftplib.FTP) -> str:
            taken = self._names(ftp, target_dir)
            if not taken:
                with contextlib.suppress(ftplib.error_perm):
                    ftp.mkd(target_dir)
            final = posixpath.join(target_dir, free_name(name, taken))
            if reason:
                note = io.BytesIO((reason + "\n").encode("utf-8"))
                ftp.storbinary(f"STOR {final}{REASON_SUFFIX}", note)
            ftp.rename(source, final)
            return final

        return self._run(f"move {name} to {posixpath.basename(target_dir) or '/'}", rename)

    def move(self, name: str, folder: str, reason: str = "") -> str:
        """Move ``name`` into ``done/`` or ``error/`` under a free name; return the path."""
        base = self.settings.path
        source = posixpath.join(base, safe_name(name))
        return self._rename_free(source, posixpath.join(base, _check_folder(folder)), name, reason)

    def restore(self, name: str) -> str:
        """Move ``error/<name>`` back into the folder (under a free name) to be read again."""
        base = self.settings.path
        error_dir = posixpath.join(base, "error")
        final = self._rename_free(posixpath.join(error_dir, safe_name(name)), base, name, "")
        with contextlib.suppress(PermanentError):
            note = posixpath.join(error_dir, name + REASON_SUFFIX)
            self._run(f"remove {name}{REASON_SUFFIX}", lambda ftp: ftp.delete(note))
        return final

    def failed_files(self) -> list[str]:
        """The files in ``error/`` (without their reason notes)."""
        error_dir = posixpath.join(self.settings.path, "error")
        return sorted(
            name
            for name in self._run("list error", lambda ftp: self._names(ftp, error_dir))
            if is_waiting(name) and not name.endswith(REASON_SUFFIX)
        )


# --- SFTP (paramiko), the server's host key pinned -----------------------------------


@dataclass(frozen=True, slots=True)
class SftpFolderSettings:
    """A folder on an SFTP server; ``host_key`` as in ``known_hosts`` (``"ssh-ed25519
    AAAA..."``) is required: without it, or when the server presents another, we refuse.
    The login uses ``private_key`` (PEM text of an unencrypted Ed25519, ECDSA or RSA
    key) when set, else ``password``."""

    host: str
    host_key: str
    port: int = 22
    user: str = ""
    password: str = ""
    path: str = "/"
    timeout: float = 30.0
    private_key: str = field(default="", repr=False)  # never in logs or tracebacks


class SftpFolder:
    """A folder on an SFTP server; one session, closed with :meth:`close` (or ``with``).
    The connection is the shared one of ``mail_crm_shop.adapters.sftp``."""

    def __init__(self, settings: SftpFolderSettings):
        self.settings = settings
        self._session = SftpSession.from_settings(settings)

    def __enter__(self) -> SftpFolder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def _transport(self) -> paramiko.Transport | None:
        return self._session.transport

    def _connect(self) -> paramiko.SFTPClient:
        return self._session.connect()

    def close(self) -> None:
        self._session.close()

    def _run(self, action: str, func):
        return self._session.run(action, func)

    @staticmethod
    def _names(sftp: paramiko.SFTPClient, path: str) -> set[str] | None:
        try:
            return set(sftp.listdir(path))
        except FileNotFoundError:
            return None

    def list_files(self) -> list[str]:
        """Waiting files, sorted by name (folders, hidden and ``.part`` files skipped)."""

        def listing(sftp: paramiko.SFTPClient) -> list[str]:
            return sorted(
                a.filename
                for a in sftp.listdir_attr(self.settings.path)
                if stat.S_ISREG(a.st_mode or 0) and is_waiting(a.filename)
            )

        return self._run("list", listing)

    def download(self, name: str) -> bytes:
        path = posixpath.join(self.settings.path, safe_name(name))

        def read(sftp: paramiko.SFTPClient) -> bytes:
            if (sftp.stat(path).st_size or 0) > MAX_FILE_BYTES:
                raise _too_large(name)
            buffer = io.BytesIO()
            sftp.getfo(path, buffer)
            return buffer.getvalue()

        return self._run(f"download {name}", read)

    def _rename_free(self, source: str, target_dir: str, name: str, reason: str) -> str:
        def rename(sftp: paramiko.SFTPClient) -> str:
            taken = self._names(sftp, target_dir)
            if taken is None:
                sftp.mkdir(target_dir)
                taken = set()
            final = posixpath.join(target_dir, free_name(name, taken))
            if reason:
                note = (reason + "\n").encode("utf-8")
                sftp.putfo(io.BytesIO(note), final + REASON_SUFFIX, file_size=len(note))
            sftp.rename(source, final)  # plain SFTP rename never replaces a file
            return final

        return self._run(f"move {name} to {posixpath.basename(target_dir) or '/'}", rename)

    def move(self, name: str, folder: str, reason: str = "") -> str:
        """Move ``name`` into ``done/`` or ``error/`` under a free name; return the path."""
        base = self.settings.path
        source = posixpath.join(base, safe_name(name))
        return self._rename_free(source, posixpath.join(base, _check_folder(folder)), name, reason)

    def restore(self, name: str) -> str:
        """Move ``error/<name>`` back into the folder (under a free name) to be read again."""
        base = self.settings.path
        error_dir = posixpath.join(base, "error")
        final = self._rename_free(posixpath.join(error_dir, safe_name(name)), base, name, "")
        note = posixpath.join(error_dir, name + REASON_SUFFIX)
        with contextlib.suppress(PermanentError):
            self._run(f"remove {name}{REASON_SUFFIX}", lambda sftp: sftp.remove(note))
        return final

    def failed_files(self) -> list[str]:
        """The files in ``error/`` (without their reason notes)."""
        error_dir = posixpath.join(self.settings.path, "error")
        names = self._run("list error", lambda sftp: self._names(sftp, error_dir)) or set()
        return sorted(n for n in names if is_waiting(n) and not n.endswith(REASON_SUFFIX))


# --- driving a folder ----------------------------------------------------------------


def pick_up(
    folder: RemoteFolder,
    store: Callable[[str, bytes], str],
    limit: int | None = None,
    on_error: Callable[[PickedFile], object] | None = None,
) -> list[PickedFile]:
    """Handle up to ``limit`` waiting files in name order; return what became of them.

    ``store(name, content)`` returns a note for ``done/`` or raises PermanentError for a
    file that cannot be used (it goes to ``error/`` with the reason). A file with an
    unsafe name is not read: it goes to ``error/`` if the folder can move it, else stays.
    Any other error (a TransientError of the folder, a failing ``store``) propagates
    and leaves the file where it is. ``on_error`` hears of each refused file at once
    (before a later file's error can end the run).
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
            else:
                picked.append(PickedFile(name, "error", reason))
            if on_error is not None:
                on_error(picked[-1])
            continue
        folder.move(name, "done", note)
        picked.append(PickedFile(name, "done", note))
    return picked
