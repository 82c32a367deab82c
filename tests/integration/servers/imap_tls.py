"""Fixture ``imap_tls_server``: the dovecot of ``imap_server`` with TLS switched on.

* A throwaway certificate authority and a server certificate it signed (for ``localhost``
  and ``127.0.0.1``), made with ``cryptography`` when the fixture starts; clients trust it
  through ``server.tls.ca_file`` only (it is in no system store);
* ``ssl = required``: dovecot refuses any login before TLS is up, so a client that
  silently skipped TLS could not log in. dovecot counts a connection whose remote and
  local addresses are equal as secure anyway, so the server listens on ``127.0.0.2`` too
  and ``server.host`` is ``127.0.0.2``: clients connect from ``127.0.0.1`` and get no such
  exemption. ``127.0.0.1`` (and ``localhost``) reach the same listeners;
* STARTTLS on ``server.port`` and implicit TLS (imaps) on ``server.imaps_port``.

``tls_authority`` makes more authorities / server certificates, e.g. one for another host
name or from a CA the client does not trust; ``DovecotTlsServer(..., tls=...)`` serves it.
The plain ``imap_server`` fixture is left as it is (``ssl = no``).
"""

from __future__ import annotations

import datetime
import imaplib
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .imap import DovecotServer, _free_port

__all__ = ["imap_tls_server", "make_imap_tls_server", "tls_authority"]

DEFAULT_NAMES = ("localhost", "127.0.0.1", "127.0.0.2")
TLS_HOST = "127.0.0.2"  # not the client's address: dovecot treats it as insecure
_LISTEN = "address = 127.0.0.1\n"
_LISTEN_BOTH = "address = 127.0.0.1, 127.0.0.2\n"

_PLAIN_SSL = "ssl = no\n"
_PLAIN_IMAPS = """\
  inet_listener imaps {
    port = 0
  }
"""
_TLS_SSL = """\
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
"""
_TLS_IMAPS = """\
  inet_listener imaps {{
    address = 127.0.0.1, 127.0.0.2
    port = {port}
    ssl = yes
  }}
"""


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA to trust, and the server's certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(names) -> x509.SubjectAlternativeName:
    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class TestAuthority:
    """A throwaway CA that signs server certificates into ``folder``."""

    __test__ = False  # not a test class for pytest

    def __init__(self, folder: Path, label: str = "ca"):
        self.folder = folder
        self.label = label
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.name = _name(f"Shop test CA {label}")
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = folder / f"{label}.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, names=DEFAULT_NAMES, label: str = "server") -> TlsFiles:
        """Sign a server certificate for ``names`` (host names and IP addresses)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key_id = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(_san(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id.value),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_file = self.folder / f"{self.label}-{label}.crt"
        key_file = self.folder / f"{self.label}-{label}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(_pem_key(key))
        key_file.chmod(0o600)
        return TlsFiles(self.ca_file, cert_file, key_file)


@dataclass
class DovecotTlsServer(DovecotServer):
    """:class:`DovecotServer` with ``ssl = required``, STARTTLS and an imaps listener."""

    imaps_port: int = 0
    tls: TlsFiles | None = None

    def setup(self) -> None:
        super().setup()
        assert self.tls is not None and self.imaps_port, "tls files and imaps port needed"
        path = self.root / "dovecot.conf"
        config = path.read_text()
        for part in (_PLAIN_SSL, _PLAIN_IMAPS, _LISTEN):
            assert config.count(part) == 1, f"{part!r} not once in\n{config}"
        config = (
            config.replace(
                _PLAIN_SSL, _TLS_SSL.format(cert=self.tls.cert_file, key=self.tls.key_file)
            )
            .replace(_PLAIN_IMAPS, _TLS_IMAPS.format(port=self.imaps_port))
            .replace(_LISTEN, _LISTEN_BOTH)
        )
        path.write_text(config)

    def client(self, user: str = "shop") -> imaplib.IMAP4:
        """A logged-in imaplib client over STARTTLS, trusting only the test CA."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.starttls(ssl.create_default_context(cafile=str(self.tls.ca_file)))
        conn._encoding = "utf-8"  # passwords with umlauts
        conn.login(user, self.users[user])
        return conn


def _dovecot_tls(tls: TlsFiles):
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    root.chmod(0o755)
    server = DovecotTlsServer(
        root=root, port=_free_port(), imaps_port=_free_port(), tls=tls, host=TLS_HOST
    )
    try:
        server.setup()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tls_authority(tmp_path):
    """A factory: ``tls_authority("label")`` returns a new :class:`TestAuthority`."""

    def make(label: str = "ca") -> TestAuthority:
        return TestAuthority(tmp_path / "tls", label)

    return make


@pytest.fixture
def imap_tls_server(tls_authority):
    """A fresh dovecot with TLS for one test; yields a :class:`DovecotTlsServer`.

    Its certificate (``localhost``, ``127.0.0.1``) is signed by a throwaway CA whose
    certificate is ``server.tls.ca_file``.
    """
    yield from _dovecot_tls(tls_authority("ca").issue())


@pytest.fixture
def make_imap_tls_server(tls_authority):
    """Start dovecot with TLS serving the given :class:`TlsFiles` (several allowed)."""
    servers = []

    def start(tls: TlsFiles) -> DovecotTlsServer:
        running = _dovecot_tls(tls)
        server = next(running)
        servers.append(running)
        return server

    yield start
    for running in servers:
        next(running, None)  # stop and clean up
