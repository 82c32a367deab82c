"""Fixtures: a real FTP server (pyftpdlib) on 127.0.0.1, plain and explicit FTPS.

``ftp_server`` / ``ftps_server`` yield an :class:`FtpServerInfo`: address, login, the
served root (a tmp dir with ``in/`` and ``out/``), and :meth:`FtpServerInfo.cut_upload_after`
to drop the session once an upload has received that many bytes (one shot).
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

__all__ = ["FtpServerInfo", "ftp_server", "ftps_server", "self_signed_cert"]

FTP_USER = "carrier"
FTP_PASSWORD = "s3cret"
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())  # no setup by pyftpdlib
logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


@dataclass
class FtpServerInfo:
    host: str
    port: int
    user: str
    password: str
    root: Path
    _cut: dict = field(default_factory=lambda: {"after": None, "cuts": 0})

    def cut_upload_after(self, n_bytes: int) -> None:
        """Drop the connection of the next upload after ``n_bytes`` were received."""
        self._cut["after"] = n_bytes

    @property
    def cuts(self) -> int:
        """How many uploads were cut so far."""
        return self._cut["cuts"]

    def files(self, folder: str = "in") -> list[str]:
        """Names of the files (not folders) in ``folder`` of the served root."""
        return sorted(p.name for p in (self.root / folder).iterdir() if p.is_file())


def _cutting(base: type, cut: dict) -> type:
    class CuttingDTP(base):
        def handle_read(self):
            limit = cut["after"]
            if limit is not None and self.tot_bytes_received >= limit:
                cut["after"] = None
                cut["cuts"] += 1
                self.file_obj.flush()
                self.cmd_channel.close()  # the whole session is gone, as on a dropped line
                return
            super().handle_read()

        handle_read_event = handle_read  # pyftpdlib binds the event to the base method

    return CuttingDTP


def _serve(tmp_path: Path, handler_base: type, dtp_base: type, **extra):
    root = tmp_path / "ftproot"
    for folder in ("in", "out"):
        (root / folder).mkdir(parents=True)
    info = FtpServerInfo("127.0.0.1", 0, FTP_USER, FTP_PASSWORD, root)
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elradfmwMT")
    handler = type(
        "Handler",
        (handler_base,),
        {
            "authorizer": authorizer,
            "dtp_handler": _cutting(dtp_base, info._cut),
            "banner": "test ftp",
            **extra,
        },
    )
    server = FTPServer(("127.0.0.1", 0), handler)
    info.port = server.address[1]
    stop = threading.Event()

    def run() -> None:
        # our own loop, closed by its own thread: closing from the test thread races the poll
        while not stop.is_set():
            server.ioloop.loop(0.05, blocking=False)
        server.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return stop, thread, info


@pytest.fixture
def ftp_server(tmp_path):
    """A plain FTP server serving a tmp dir (``in/``, ``out/``)."""
    stop, thread, info = _serve(tmp_path, FTPHandler, DTPHandler)
    yield info
    stop.set()
    thread.join(5)


@pytest.fixture(scope="session")
def self_signed_cert(tmp_path_factory) -> Path:
    """A PEM file with a self-signed certificate for 127.0.0.1 and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("tls") / "cert.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


@pytest.fixture
def ftps_server(tmp_path, self_signed_cert):
    """Explicit FTPS (AUTH TLS required, protected data channel) with a self-signed cert."""
    stop, thread, info = _serve(
        tmp_path,
        TLS_FTPHandler,
        TLS_DTPHandler,
        certfile=str(self_signed_cert),
        tls_control_required=True,
        tls_data_required=True,
    )
    yield info
    stop.set()
    thread.join(5)
