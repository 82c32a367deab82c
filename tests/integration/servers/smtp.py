"""Fixture: a real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives.

``smtp_server`` yields a :class:`SmtpTestServer`, listening on a free port, that accepts
every recipient unless told otherwise::

    smtp_server.set_behaviour("bob", "reject")             # local part: 550 5.1.1 user unknown
    smtp_server.set_behaviour("carol@example.org", "defer")  # address: 450 4.2.0 try later
    smtp_server.set_behaviour("dave", "552 5.2.2 mailbox full")  # any literal reply
    smtp_server.data_reply = "554 5.7.1 spam"              # refuse the message at DATA

``smtp_server.messages`` lists :class:`ReceivedMessage` (envelope from, rcpt tos, raw bytes).
For login and TLS build one yourself: ``with SmtpTestServer(auth=("u", "p"), tls=cert)``;
``smtp_tls_certificate`` makes a self-signed certificate for 127.0.0.1 (``openssl`` CLI).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["smtp_server", "smtp_tls_certificate"]  # the fixtures; import classes directly

REPLIES = {
    "accept": "250 2.1.5 OK",
    "reject": "550 5.1.1 user unknown",
    "defer": "450 4.2.0 try later",
}


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True, slots=True)
class TlsCertificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 nobody listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: SmtpTestServer):
        self.server = server

    async def handle_MAIL(self, smtp, session, envelope, address, mail_options):
        if self.server.mail_reply:
            return self.server.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        reply = self.server.reply_for(address)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.data_reply:
            return self.server.data_reply
        self.server.messages.append(
            ReceivedMessage(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        )
        return f"250 2.0.0 Ok: queued as Q{len(self.server.messages)}"


class SmtpTestServer:
    """aiosmtpd in a thread on 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        auth: tuple[str, str] | None = None,
        tls: TlsCertificate | None = None,
        implicit_tls: bool = False,
    ):
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.messages: list[ReceivedMessage] = []
        self.behaviour: dict[str, str] = {}
        self.mail_reply: str | None = None
        self.data_reply: str | None = None
        self.logins: list[str] = []
        kwargs = {}
        if auth:
            kwargs.update(authenticator=self._authenticator(auth), auth_require_tls=False)
        if tls and not implicit_tls:
            kwargs["tls_context"] = tls.server_context()
        self.controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=tls.server_context() if tls and implicit_tls else None,
            server_hostname="mx.test.local",
            **kwargs,
        )

    def set_behaviour(self, address_or_local_part: str, behaviour: str) -> None:
        """``accept``, ``reject``, ``defer`` or a literal reply for an address or local part."""
        self.behaviour[address_or_local_part.lower()] = REPLIES.get(behaviour, behaviour)

    def reply_for(self, address: str) -> str:
        address = address.lower()
        local = address.split("@", 1)[0]
        return self.behaviour.get(address) or self.behaviour.get(local) or REPLIES["accept"]

    def _authenticator(self, credentials):
        def authenticate(smtp, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                )
                == credentials
            )
            if ok:
                self.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)

        return authenticate

    def __enter__(self) -> SmtpTestServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server():
    """A recording SMTP server on a free port of 127.0.0.1 (accepts everyone by default)."""
    with SmtpTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def smtp_tls_certificate(tmp_path_factory) -> TlsCertificate:
    """A self-signed certificate for the IP 127.0.0.1 (cert.pem doubles as the CA file)."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return TlsCertificate(cert, key)
