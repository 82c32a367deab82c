"""ImapAdapter over TLS against a real dovecot (``ssl = required``), no protocol mocks.

Implicit TLS (imaps) and STARTTLS must log in and fetch when the server's certificate
verifies; every certificate problem must end the connection with a PermanentError before
the password is sent, never fall back to plain text.
"""

from __future__ import annotations

import threading
import time

import pytest

from shopaddons.mail_crm_shop.adapters.imap import ImapAdapter, ImapAuthError, ImapSettings
from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError

MAIL = (
    b"Message-ID: <tls1@kunde.example>\r\nFrom: kunde@kunde.example\r\n"
    b"To: service@shop.example\r\nSubject: =?utf-8?q?R=C3=BCckfrage?=\r\n\r\nHallo\r\n"
)


def _settings(server, security, host=None, cafile="", **overrides) -> ImapSettings:
    values = {
        "host": host or server.host,
        "port": server.imaps_port if security == "ssl" else server.port,
        "security": security,
        "login": "shop",
        "password": server.users["shop"],
        "timeout": 10.0,
        "cafile": str(server.tls.ca_file) if cafile == "" else cafile,
    }
    values.update(overrides)
    return ImapSettings(**values)


def _logins(server) -> list[str]:
    """dovecot's log lines of login attempts (successful or refused) by the user shop."""
    return [line for line in server.log.splitlines() if "user=<shop>" in line]


@pytest.mark.parametrize("security", ["ssl", "starttls"])
@pytest.mark.parametrize("host", [None, "localhost"], ids=["ip", "localhost"])
def test_tls_login_and_fetch_with_the_servers_ca(imap_tls_server, security, host):
    uid = imap_tls_server.deliver(MAIL)
    adapter = ImapAdapter(_settings(imap_tls_server, security, host=host))
    with adapter as imap:
        state = imap.select("INBOX")
        (message,) = imap.fetch("INBOX", imap.search_uids("INBOX", 1))
        assert adapter._imap._imap.sock.version() in ("TLSv1.2", "TLSv1.3")  # encrypted
        imap.set_seen("INBOX", [uid], True)
    assert state.exists == 1
    assert (message.uid, message.raw) == (uid, MAIL)
    assert "\\Seen" in imap_tls_server.flags(uid)
    assert any("Login: user=<shop>" in line and "TLS" in line for line in _logins(imap_tls_server))


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_self_signed_server_is_rejected_with_the_system_store(imap_tls_server, security):
    """No CA file: the test CA is in no system store, so the certificate must not verify."""
    adapter = ImapAdapter(_settings(imap_tls_server, security, cafile=None))
    with pytest.raises(PermanentError, match="certificate rejected") as caught:
        adapter.connect()
    assert not isinstance(caught.value, ImapAuthError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert adapter._client is None  # nothing half-open left behind
    assert _logins(imap_tls_server) == []  # the password never left the client


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_certificate_from_another_ca_is_rejected(imap_tls_server, tls_authority, security):
    other_ca = tls_authority("other").ca_file
    adapter = ImapAdapter(_settings(imap_tls_server, security, cafile=str(other_ca)))
    with pytest.raises(PermanentError, match="certificate rejected"):
        adapter.connect()
    assert adapter._client is None
    assert _logins(imap_tls_server) == []


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_certificate_for_another_host_name_is_rejected(
    make_imap_tls_server, tls_authority, security
):
    """Signed by the trusted CA, but for another name: the host name check must catch it."""
    server = make_imap_tls_server(tls_authority("ca").issue(["mail.other.example"]))
    adapter = ImapAdapter(_settings(server, security))
    with pytest.raises(PermanentError, match="certificate rejected") as caught:
        adapter.connect()
    assert "mismatch" in str(caught.value) or "match" in str(caught.value)
    assert adapter._client is None
    assert _logins(server) == []


@pytest.mark.parametrize(
    "cafile", ["/nonexistent/ca.pem", "not-a-certificate"], ids=["missing", "no-certificate"]
)
def test_unusable_ca_file_is_permanent(imap_tls_server, tmp_path, cafile):
    if cafile == "not-a-certificate":
        path = tmp_path / "ca.pem"
        path.write_text("this is no certificate\n")
        cafile = str(path)
    adapter = ImapAdapter(_settings(imap_tls_server, "ssl", cafile=cafile))
    with pytest.raises(PermanentError, match="CA file") as caught:
        adapter.connect()
    assert cafile in str(caught.value)
    assert adapter._client is None


def test_implicit_tls_on_the_starttls_port_is_permanent(imap_tls_server):
    """``ssl`` on port 143: the server answers in plain text, a configuration mistake."""
    adapter = ImapAdapter(_settings(imap_tls_server, "ssl", port=imap_tls_server.port))
    with pytest.raises(PermanentError, match="does not speak TLS on this port"):
        adapter.connect()
    assert adapter._client is None
    assert _logins(imap_tls_server) == []


def test_starttls_on_the_implicit_tls_port_times_out_as_transient(imap_tls_server):
    """``starttls`` on port 993: both sides wait for each other until the timeout.

    Indistinguishable from a slow server, hence transient; it must end within the timeout.
    """
    settings = _settings(imap_tls_server, "starttls", port=imap_tls_server.imaps_port, timeout=1)
    adapter = ImapAdapter(settings)
    started = time.monotonic()
    with pytest.raises(TransientError, match="timed out"):
        adapter.connect()
    assert time.monotonic() - started < 10
    assert adapter._client is None
    assert _logins(imap_tls_server) == []


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_idle_over_tls_sees_a_new_mail(imap_tls_server, security):
    with ImapAdapter(_settings(imap_tls_server, security)) as imap:
        imap.select("INBOX")
        sender = threading.Timer(0.5, imap_tls_server.deliver, args=(MAIL,))
        sender.start()
        try:
            arrived = imap.idle_wait("INBOX", timeout=20)
        finally:
            sender.join(30)
        assert arrived is True
        assert imap.search_uids("INBOX", 1) == [1]


def test_plain_text_login_on_a_tls_only_server_is_refused(imap_tls_server):
    """``security="none"`` where the server requires TLS: a clear auth error, no retry."""
    adapter = ImapAdapter(_settings(imap_tls_server, "none"))
    with pytest.raises(ImapAuthError, match="login refused"):
        adapter.connect()
    assert adapter._client is None


def test_starttls_on_a_server_without_it_is_still_refused(imap_server):
    """The plain dovecot offers no STARTTLS: the adapter must not continue in plain text."""
    settings = ImapSettings(
        imap_server.host, imap_server.port, "starttls", "shop", "secret", timeout=10
    )
    adapter = ImapAdapter(settings)
    with pytest.raises(PermanentError, match="STARTTLS"):
        adapter.connect()
    assert adapter._client is None
    assert "user=<shop>" not in imap_server.log


def test_cafile_is_part_of_the_settings():
    settings = ImapSettings("h", 993, "ssl", "shop", "secret", cafile="/etc/ssl/shop-ca.pem")
    assert settings.cafile == "/etc/ssl/shop-ca.pem"
    assert ImapSettings("h", 993, "ssl", "shop", "secret").cafile is None
