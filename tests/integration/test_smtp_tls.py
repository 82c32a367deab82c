"""SmtpAdapter over TLS against aiosmtpd with a certificate signed by a throwaway CA.

Complements test_smtp_adapter.py (self-signed certificate as its own CA): a real chain
(CA file != server certificate), the host name check, and that a certificate problem
stops the session before the password or the message is sent.
"""

from __future__ import annotations

import pytest

from shopaddons.mail_crm_shop.adapters.smtp import SmtpAdapter, SmtpSettings
from shopaddons.mail_crm_shop.services.errors import PermanentError

from .servers.smtp import SmtpTestServer, TlsCertificate

MESSAGE = (
    b"From: Shop <shop@haendler.example>\r\nTo: kunde@example.org\r\n"
    b"Subject: Ihre Bestellung\r\nMessage-ID: <tls@haendler.example>\r\n\r\nHallo\r\n"
)
CREDENTIALS = ("shop", "geheim")


def _server(files, security) -> SmtpTestServer:
    return SmtpTestServer(
        auth=CREDENTIALS,
        tls=TlsCertificate(files.cert_file, files.key_file),
        implicit_tls=security == "ssl",
    )


def _send(server, security, cafile):
    settings = SmtpSettings(
        server.host,
        server.port,
        security,
        login=CREDENTIALS[0],
        password=CREDENTIALS[1],
        timeout=10,
        cafile=cafile,
    )
    return SmtpAdapter(settings).send(MESSAGE, "shop@haendler.example", ["kunde@example.org"])


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_the_servers_ca_logs_in_and_sends(tls_authority, security):
    files = tls_authority("ca").issue()
    with _server(files, security) as server:
        assert _send(server, security, str(files.ca_file)).all_sent
        assert server.logins == ["shop"]
        assert [m.raw for m in server.messages] == [MESSAGE]


@pytest.mark.parametrize("security", ["ssl", "starttls"])
@pytest.mark.parametrize("trust", ["system-store", "other-ca", "other-host-name"])
def test_a_certificate_that_does_not_verify_stops_before_login(tls_authority, security, trust):
    authority = tls_authority("ca")
    cafile = str(authority.ca_file)
    if trust == "other-host-name":  # trusted CA, but issued for another server
        files = authority.issue(["mail.other.example"])
    else:
        files = authority.issue()
        cafile = None if trust == "system-store" else str(tls_authority("other").ca_file)
    with _server(files, security) as server:
        with pytest.raises(PermanentError, match="certificate"):
            _send(server, security, cafile)
        assert server.logins == []  # the password was never sent
        assert server.messages == []


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_unusable_ca_file_is_a_configuration_error(tls_authority, tmp_path, security):
    files = tls_authority("ca").issue()
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("no certificate here\n")
    with _server(files, security) as server:
        for cafile in (str(tmp_path / "missing.pem"), str(not_a_certificate)):
            with pytest.raises(PermanentError, match="CA file"):
                _send(server, security, cafile)
        assert server.logins == []


def test_implicit_tls_on_a_starttls_port_is_a_configuration_error(tls_authority):
    files = tls_authority("ca").issue()
    with _server(files, "starttls") as server:
        with pytest.raises(PermanentError, match="does not speak TLS"):
            _send(server, "ssl", str(files.ca_file))
        assert server.logins == []
