"""SFTP transport (paramiko) for delivery files and confirmations.

The server's host key is pinned (``SftpSettings.host_key``, as in ``known_hosts``:
``"ssh-ed25519 AAAA..."``); without it we refuse to connect. :func:`fetch_host_key`
reads the key a server presents, for a person to confirm once.

Uploads go to ``<name>.part`` and are renamed (``posix-rename``, replacing an older file)
once the size is confirmed; processed confirmations move to ``done/`` or ``error/``.
The connection (pinning, password or key login, timeouts, error conversion) is the
shared one of ``mail_crm_shop.adapters.sftp``.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import stat
from dataclasses import dataclass

import paramiko

from ...mail_crm_shop.adapters.sftp import SftpSession, fetch_host_key, pinned_key
from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ..services.confirmation import safe_file_name

__all__ = [
    "FOLDERS",
    "PART_SUFFIX",
    "SftpSettings",
    "SftpTransport",
    "fetch_host_key",
    "pinned_key",
]

PART_SUFFIX = ".part"
FOLDERS = ("done", "error")


@dataclass(frozen=True, slots=True)
class SftpSettings:
    """Connection of one exchange profile; ``password`` or ``private_key`` (PEM text)."""

    host: str
    host_key: str  # "<key type> <base64>", required
    port: int = 22
    user: str = ""
    password: str = ""
    private_key: str = ""
    upload_dir: str = "/in"
    confirmation_dir: str = "/out"
    timeout: float = 30.0


class SftpTransport:
    """One SFTP session; use as a context manager to reuse the connection."""

    def __init__(self, settings: SftpSettings):
        self.settings = settings
        self._session = SftpSession.from_settings(settings)

    def __enter__(self) -> SftpTransport:
        self._connect()
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

    def _run(self, action: str, func, *args):
        return self._session.run(action, func, *args)

    # -- upload -------------------------------------------------------------------

    def upload(self, name: str, data: bytes) -> str:
        """Store ``data`` as ``<upload_dir>/<name>`` atomically; return the remote path."""
        safe_file_name(name)
        final = posixpath.join(self.settings.upload_dir, name)
        part = final + PART_SUFFIX

        def store(sftp: paramiko.SFTPClient) -> None:
            sftp.putfo(io.BytesIO(data), part, file_size=len(data), confirm=True)
            self._replace(sftp, part, final)

        self._connect()  # a refused connection leaves nothing to clean up
        try:
            self._run(f"upload {name}", store)
        except TransientError:
            self._remove_quietly(part)
            raise
        return final

    @staticmethod
    def _replace(sftp: paramiko.SFTPClient, source: str, target: str) -> None:
        try:
            sftp.posix_rename(source, target)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            # server without posix-rename: plain rename never overwrites
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(target)
            sftp.rename(source, target)

    def _remove_quietly(self, path: str) -> None:
        with contextlib.suppress(TransientError, PermanentError):
            self._run(f"remove {path}", lambda sftp: sftp.remove(path))

    # -- confirmations ------------------------------------------------------------

    def list_files(self) -> list[str]:
        """Names of the regular files waiting in the confirmation folder (sorted; no
        ``.part``). Names come from outside: check them with ``safe_file_name``."""
        folder = self.settings.confirmation_dir

        def listing(sftp: paramiko.SFTPClient) -> list[str]:
            return sorted(
                a.filename
                for a in sftp.listdir_attr(folder)
                if stat.S_ISREG(a.st_mode or 0) and not a.filename.endswith(PART_SUFFIX)
            )

        return self._run("list", listing)

    def download(self, name: str) -> bytes:
        path = posixpath.join(self.settings.confirmation_dir, safe_file_name(name))

        def read(sftp: paramiko.SFTPClient) -> bytes:
            buffer = io.BytesIO()
            sftp.getfo(path, buffer)
            return buffer.getvalue()

        return self._run(f"download {name}", read)

    def move(self, name: str, folder: str) -> str:
        """Move confirmation file ``name`` into ``done/`` or ``error/`` (created if missing)."""
        if folder not in FOLDERS:
            raise PermanentError(f"unknown folder {folder!r}")
        base = self.settings.confirmation_dir
        source = posixpath.join(base, safe_file_name(name))
        target_dir = posixpath.join(base, folder)
        target = posixpath.join(target_dir, name)

        def rename(sftp: paramiko.SFTPClient) -> None:
            try:
                sftp.stat(target_dir)
            except FileNotFoundError:
                sftp.mkdir(target_dir)
            self._replace(sftp, source, target)

        self._run(f"move {name} to {folder}", rename)
        return target
