"""Fixture: a real SFTP server (paramiko, password or key auth) on 127.0.0.1 serving a tmp dir.

``sftp_server`` yields an :class:`SftpServerInfo`: address, login (the password, or the
private key ``client_key``: OpenSSH text of an Ed25519 key), ``host_key`` (the
``"<type> <base64>"`` line a client pins), the served root (with ``in/`` and ``out/``)
and :meth:`SftpServerInfo.cut_upload_after` to drop the connection once an upload has
written that many bytes (one shot). The server refuses paths outside its root.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED

__all__ = ["SftpServerInfo", "sftp_client_key", "sftp_host_key", "sftp_server"]

SFTP_USER = "carrier"
SFTP_PASSWORD = "s3cret"
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


@dataclass
class SftpServerInfo:
    host: str
    port: int
    user: str
    password: str
    host_key: str
    root: Path
    client_key: str = ""  # private key (OpenSSH text) the server accepts for ``user``
    _state: dict = field(default_factory=lambda: {"after": None, "cuts": 0, "transports": []})

    def cut_upload_after(self, n_bytes: int) -> None:
        """Drop the connection of the next upload after ``n_bytes`` were written."""
        self._state["after"] = n_bytes

    @property
    def cuts(self) -> int:
        return self._state["cuts"]

    def files(self, folder: str = "in") -> list[str]:
        return sorted(p.name for p in (self.root / folder).iterdir() if p.is_file())


def _errno_to_status(err: OSError) -> int:
    if isinstance(err, FileNotFoundError):
        return SFTP_NO_SUCH_FILE
    if isinstance(err, PermissionError):
        return SFTP_PERMISSION_DENIED
    return SFTP_FAILURE


class _Auth(paramiko.ServerInterface):
    def __init__(self, client_key: paramiko.PKey | None = None):
        self.client_key = client_key

    def check_auth_password(self, username, password):
        if (username, password) == (SFTP_USER, SFTP_PASSWORD):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if self.client_key is None or username != SFTP_USER:
            return paramiko.AUTH_FAILED
        same = (key.get_name(), key.get_base64()) == (
            self.client_key.get_name(),
            self.client_key.get_base64(),
        )
        return paramiko.AUTH_SUCCESSFUL if same else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def _make_sftp_interface(root: Path, state: dict):
    class Handle(paramiko.SFTPHandle):
        transport: paramiko.Transport | None = None

        def write(self, offset, data):
            limit = state["after"]
            if limit is not None and offset + len(data) > limit:
                state["after"] = None
                state["cuts"] += 1
                self.writefile.write(data[: max(0, limit - offset)])
                self.writefile.flush()
                self.transport.close()  # the line drops in the middle of the upload
                return SFTP_FAILURE
            return super().write(offset, data)

    class RootedSFTP(paramiko.SFTPServerInterface):
        def _real(self, path: str) -> Path:
            real = (root / path.lstrip("/")).resolve()
            if real != root and root not in real.parents:
                raise PermissionError(path)
            return real

        def canonicalize(self, path):
            real = self._real(path if path.startswith("/") else "/" + path)
            relative = real.relative_to(root).as_posix()
            return "/" if relative == "." else "/" + relative

        def list_folder(self, path):
            try:
                folder = self._real(path)
                out = []
                for name in sorted(os.listdir(folder)):
                    attr = paramiko.SFTPAttributes.from_stat(os.lstat(folder / name))
                    attr.filename = name
                    out.append(attr)
                return out
            except OSError as err:
                return _errno_to_status(err)

        def stat(self, path):
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
            except OSError as err:
                return _errno_to_status(err)

        lstat = stat

        def open(self, path, flags, attr):
            try:
                real = self._real(path)
                fd = os.open(real, flags, 0o644)
                mode = "wb" if flags & os.O_WRONLY else ("r+b" if flags & os.O_RDWR else "rb")
                if flags & os.O_APPEND:
                    mode = "ab"
                handle = Handle(flags)
                handle.transport = self_transport[0]
                fobj = os.fdopen(fd, mode)
                handle.filename = str(real)
                handle.readfile = fobj
                handle.writefile = fobj
                return handle
            except OSError as err:
                return _errno_to_status(err)

        def remove(self, path):
            try:
                os.remove(self._real(path))
            except OSError as err:
                return _errno_to_status(err)
            return SFTP_OK

        def rename(self, oldpath, newpath):
            try:
                new = self._real(newpath)
                if new.exists():
                    return SFTP_FAILURE  # plain SFTP rename never overwrites
                os.rename(self._real(oldpath), new)
            except OSError as err:
                return _errno_to_status(err)
            return SFTP_OK

        def posix_rename(self, oldpath, newpath):
            try:
                os.replace(self._real(oldpath), self._real(newpath))
            except OSError as err:
                return _errno_to_status(err)
            return SFTP_OK

        def mkdir(self, path, attr):
            try:
                os.mkdir(self._real(path))
            except OSError as err:
                return _errno_to_status(err)
            return SFTP_OK

        def rmdir(self, path):
            try:
                os.rmdir(self._real(path))
            except OSError as err:
                return _errno_to_status(err)
            return SFTP_OK

    self_transport: list = [None]
    return RootedSFTP, self_transport


@pytest.fixture(scope="session")
def sftp_host_key() -> paramiko.PKey:
    """The server's host key (ECDSA: quick to generate)."""
    return paramiko.ECDSAKey.generate()


@pytest.fixture(scope="session")
def sftp_client_key() -> str:
    """A client's private key the server accepts (Ed25519, OpenSSH text, unencrypted)."""
    private = ed25519.Ed25519PrivateKey.generate()
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def sftp_server(tmp_path, sftp_host_key, sftp_client_key):
    """An SFTP server serving a tmp dir with ``in/`` and ``out/``; one client at a time."""
    root = (tmp_path / "sftproot").resolve()
    for folder in ("in", "out"):
        (root / folder).mkdir(parents=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    info = SftpServerInfo(
        "127.0.0.1",
        listener.getsockname()[1],
        SFTP_USER,
        SFTP_PASSWORD,
        f"{sftp_host_key.get_name()} {sftp_host_key.get_base64()}",
        root,
        sftp_client_key,
    )
    client_key = paramiko.Ed25519Key.from_private_key(io.StringIO(sftp_client_key))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(sftp_host_key)
            interface, holder = _make_sftp_interface(root, info._state)
            holder[0] = transport
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, interface)
            info._state["transports"].append(transport)
            try:
                transport.start_server(server=_Auth(client_key))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield info
    stop.set()
    thread.join(5)
    listener.close()
    for transport in info._state["transports"]:
        transport.close()
