"""SFTP transport (paramiko) for delivery files and confirmations.

The server's host key is pinned (``SftpSettings.host_key``, as in ``known_hosts``:
``"ssh-ed25519 AAAA..."``); without it we refuse to connect. :func:`fetch_host_key`
reads the key a server presents, for a person to confirm once.

Uploads go to ``<name>.part`` and are renamed (``posix-rename``, replacing an older file)
once the size is confirmed; processed confirmations move to ``done/`` or ``error/``.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import socket
import stat
from dataclasses import dataclass

import paramiko

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ..services.confirmation import safe_file_name

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


def _convert(exc: BaseException, action: str) -> Exception:
    text = f"SFTP {action}: {exc.__class__.__name__}: {exc}"
    if isinstance(exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException)):
        return PermanentError(text)
    if isinstance(exc, (FileNotFoundError, PermissionError)):
        return PermanentError(text)  # SFTP status: no such file/folder, not allowed
    return TransientError(text)  # dropped connection, timeout, protocol hiccup


_ERRORS = (paramiko.SSHException, OSError, EOFError)


def _open_transport(host: str, port: int, timeout: float) -> paramiko.Transport:
    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    transport.auth_timeout = timeout
    transport.start_client(timeout=timeout)
    return transport


def fetch_host_key(host: str, port: int = 22, timeout: float = 15.0) -> str:
    """Return the ``"<type> <base64>"`` host key the server presents (not trusted yet)."""
    try:
        transport = _open_transport(host, port, timeout)
    except _ERRORS as exc:
        raise _convert(exc, f"connect to {host}:{port}") from exc
    try:
        key = transport.get_remote_server_key()
        return f"{key.get_name()} {key.get_base64()}"
    finally:
        transport.close()


def pinned_key(host_key: str) -> tuple[str, str]:
    """``(type, base64)`` from ``"ssh-ed25519 AAAA..."`` or a whole ``known_hosts`` line."""
    tokens = host_key.split()
    for i, token in enumerate(tokens[:-1]):
        if token.startswith(("ssh-", "ecdsa-", "sk-")):
            return token, tokens[i + 1]
    raise PermanentError(f"SFTP host key {host_key[:40]!r} is not '<type> <base64>'")


def _load_private_key(text: str) -> paramiko.PKey:
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise PermanentError("SFTP private key: not an unencrypted Ed25519, ECDSA or RSA key")


class SftpTransport:
    """One SFTP session; use as a context manager to reuse the connection."""

    def __init__(self, settings: SftpSettings):
        self.settings = settings
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> SftpTransport:
        self._connect()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        s = self.settings
        if not s.host_key.strip():
            raise PermanentError(f"SFTP {s.host}: host key not configured, refusing to connect")
        key = _load_private_key(s.private_key) if s.private_key else None
        transport = None
        try:
            transport = _open_transport(s.host, s.port, s.timeout)
            remote = transport.get_remote_server_key()
            if (remote.get_name(), remote.get_base64()) != pinned_key(s.host_key):
                raise PermanentError(
                    f"SFTP {s.host}: host key mismatch, server presents "
                    f"{remote.get_name()} {remote.get_base64()[:40]}..."
                )
            if key is not None:
                transport.auth_publickey(s.user, key)
            else:
                transport.auth_password(s.user, s.password)
            sftp = paramiko.SFTPClient.from_transport(transport)
            sftp.get_channel().settimeout(s.timeout)
        except PermanentError:
            if transport is not None:
                transport.close()
            raise
        except _ERRORS as exc:
            if transport is not None:
                transport.close()
            raise _convert(exc, f"connect to {s.host}:{s.port}") from exc
        self._transport, self._sftp = transport, sftp
        return sftp

    def close(self) -> None:
        sftp, transport = self._sftp, self._transport
        self._sftp = self._transport = None
        for thing in (sftp, transport):
            if thing is not None:
                with contextlib.suppress(*_ERRORS):
                    thing.close()

    def _run(self, action: str, func, *args):
        sftp = self._connect()
        try:
            return func(sftp, *args)
        except _ERRORS as exc:
            error = _convert(exc, action)
            if isinstance(error, TransientError):
                self.close()  # the session state is unknown: reconnect next time
            raise error from exc

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
