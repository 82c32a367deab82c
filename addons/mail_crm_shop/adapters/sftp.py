"""The SFTP connection (paramiko) shared by every addon: pinned host key, password or key.

The server's host key is pinned (``"ssh-ed25519 AAAA..."`` as in ``known_hosts``, or a
whole ``known_hosts`` line): without one, or when the server presents another, we refuse
to connect. :func:`fetch_host_key` reads the key a server presents, for a person to
confirm once.

The login uses a private key (PEM or OpenSSH text of an unencrypted Ed25519, ECDSA or RSA
key) when one is given, else the password. Every socket operation has the timeout of
the settings (connect, banner, handshake, authentication, each SFTP request).

Errors are converted here: a refused login, another host key, a missing file or folder
or a refused operation become :class:`PermanentError`; a dropped connection, a timeout
or a protocol hiccup :class:`TransientError`. The file operations (upload, list, move)
stay with the callers (``shipping_exchange.adapters.sftp``,
``shop_connector.adapters.remote_folder``).
"""

from __future__ import annotations

import contextlib
import io
import socket

import paramiko

from ..services.errors import PermanentError, TransientError

__all__ = [
    "SFTP_ERRORS",
    "SftpSession",
    "convert_error",
    "fetch_host_key",
    "load_private_key",
    "open_transport",
    "pinned_key",
]

SFTP_ERRORS = (paramiko.SSHException, OSError, EOFError)
KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def convert_error(exc: BaseException, action: str) -> Exception:
    """The PermanentError or TransientError for a paramiko or socket error of ``action``."""
    text = f"SFTP {action}: {exc.__class__.__name__}: {exc}"
    if isinstance(exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException)):
        return PermanentError(text)
    if isinstance(exc, (FileNotFoundError, PermissionError)):
        return PermanentError(text)  # SFTP status: no such file or folder, not allowed
    return TransientError(text)  # dropped connection, timeout, protocol hiccup


def pinned_key(host_key: str) -> tuple[str, str]:
    """``(type, base64)`` from ``"ssh-ed25519 AAAA..."`` or a whole ``known_hosts`` line."""
    tokens = host_key.split()
    for i, token in enumerate(tokens[:-1]):
        if token.startswith(("ssh-", "ecdsa-", "sk-")):
            return token, tokens[i + 1]
    raise PermanentError(f"SFTP host key {host_key[:40]!r} is not '<type> <base64>'")


def load_private_key(text: str) -> paramiko.PKey:
    """The key of ``text`` (PEM or OpenSSH format); PermanentError if it is not an
    unencrypted Ed25519, ECDSA or RSA private key."""
    for cls in KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text.strip() + "\n"))
        except (paramiko.SSHException, ValueError, IndexError, TypeError):
            continue  # another type, encrypted, or not a key at all
    raise PermanentError("SFTP private key: not an unencrypted Ed25519, ECDSA or RSA key")


def open_transport(host: str, port: int, timeout: float) -> paramiko.Transport:
    """A started (not yet authenticated) SSH transport; raises the paramiko/socket error."""
    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    transport.auth_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
    except BaseException:
        transport.close()
        raise
    return transport


def fetch_host_key(host: str, port: int = 22, timeout: float = 15.0) -> str:
    """Return the ``"<type> <base64>"`` host key the server presents (not trusted yet)."""
    try:
        transport = open_transport(host, port, timeout)
    except SFTP_ERRORS as exc:
        raise convert_error(exc, f"connect to {host}:{port}") from exc
    try:
        key = transport.get_remote_server_key()
        return f"{key.get_name()} {key.get_base64()}"
    finally:
        transport.close()


class SftpSession:
    """One authenticated SFTP session, opened on first use and reopened after a
    TransientError; :meth:`run` calls ``func(sftp_client, *args)`` converting errors."""

    def __init__(
        self,
        host: str,
        host_key: str,
        port: int = 22,
        user: str = "",
        password: str = "",
        private_key: str = "",
        timeout: float = 30.0,
    ):
        self.host, self.host_key, self.port = host, host_key, port
        self.user, self.password, self.private_key = user, password, private_key
        self.timeout = timeout
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @classmethod
    def from_settings(cls, settings) -> SftpSession:
        """The session of a settings dataclass with the same field names (``host``,
        ``host_key``, ``port``, ``user``, ``password``, ``private_key``, ``timeout``)."""
        return cls(
            host=settings.host,
            host_key=settings.host_key,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            private_key=settings.private_key,
            timeout=settings.timeout,
        )

    @property
    def transport(self) -> paramiko.Transport | None:
        """The SSH transport while connected, else None."""
        return self._transport

    def connect(self) -> paramiko.SFTPClient:
        """The SFTP client, connecting and logging in when not connected."""
        if self._sftp is not None:
            return self._sftp
        if not (self.host_key or "").strip():
            raise PermanentError(f"SFTP {self.host}: host key not configured, refusing to connect")
        pinned = pinned_key(self.host_key)
        key = load_private_key(self.private_key) if (self.private_key or "").strip() else None
        transport = None
        try:
            transport = open_transport(self.host, self.port, self.timeout)
            remote = transport.get_remote_server_key()
            if (remote.get_name(), remote.get_base64()) != pinned:
                raise PermanentError(
                    f"SFTP {self.host}: host key mismatch, server presents "
                    f"{remote.get_name()} {remote.get_base64()[:40]}..."
                )
            if key is not None:
                transport.auth_publickey(self.user, key)
            else:
                transport.auth_password(self.user, self.password)
            sftp = paramiko.SFTPClient.from_transport(transport)
            sftp.get_channel().settimeout(self.timeout)
        except PermanentError:
            if transport is not None:
                transport.close()
            raise
        except SFTP_ERRORS as exc:
            if transport is not None:
                transport.close()
            raise convert_error(exc, f"connect to {self.host}:{self.port}") from exc
        self._transport, self._sftp = transport, sftp
        return sftp

    def close(self) -> None:
        sftp, transport = self._sftp, self._transport
        self._sftp = self._transport = None
        for thing in (sftp, transport):
            if thing is not None:
                with contextlib.suppress(*SFTP_ERRORS):
                    thing.close()

    def run(self, action: str, func, *args):
        """``func(sftp, *args)``; errors converted, the session closed after a transient one
        (its state is unknown: the next call reconnects)."""
        sftp = self.connect()
        try:
            return func(sftp, *args)
        except SFTP_ERRORS as exc:
            error = convert_error(exc, action)
            if isinstance(error, TransientError):
                self.close()
            raise error from exc
