"""Login with a private key through the shared SFTP connection (mail_crm_shop.adapters.sftp),
for the order and statement folders of shop_connector and shipping_exchange's transport."""

from __future__ import annotations

import io
from dataclasses import replace

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from shopaddons.mail_crm_shop.adapters.sftp import SftpSession, load_private_key
from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shipping_exchange.adapters.sftp import SftpSettings, SftpTransport
from shopaddons.shop_connector.adapters.remote_folder import SftpFolder, SftpFolderSettings, pick_up
from shopaddons.shop_connector.adapters.statement_folder import SftpStatementFolder


def _key_folder(server, **overrides) -> SftpFolder:
    settings = SftpFolderSettings(
        server.host,
        server.host_key,
        server.port,
        server.user,
        password="",
        path="/out",
        timeout=5,
        private_key=server.client_key,
    )
    return SftpFolder(replace(settings, **overrides))


def _other_ed25519_key() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode()
    )


def test_the_order_folder_logs_in_with_a_key_and_picks_up(sftp_server):
    out = sftp_server.root / "out"
    (out / "orders.json").write_bytes(b'{"orders": []}')
    with _key_folder(sftp_server) as folder:
        picked = pick_up(folder, lambda name, data: f"{len(data)} bytes")
    assert [(p.name, p.moved_to) for p in picked] == [("orders.json", "done")]
    assert (out / "done" / "orders.json").read_bytes() == b'{"orders": []}'


def test_the_statement_folder_logs_in_with_a_key(sftp_server):
    (sftp_server.root / "out" / "camt.xml").write_bytes(b"<x/>")
    with SftpStatementFolder(_key_folder(sftp_server).settings) as folder:
        assert folder.list_files() == ["camt.xml"]


def test_the_key_is_used_rather_than_a_wrong_password(sftp_server):
    with _key_folder(sftp_server, password="wrong") as folder:
        assert folder.list_files() == []


def test_a_key_the_server_does_not_know_is_permanent(sftp_server):
    with pytest.raises(PermanentError, match="Authentication"):
        _key_folder(sftp_server, private_key=_other_ed25519_key()).list_files()


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    ],
)
def test_a_bad_key_is_permanent_before_connecting(sftp_server, text):
    with pytest.raises(PermanentError, match="not an unencrypted Ed25519, ECDSA or RSA key"):
        _key_folder(sftp_server, private_key=text).list_files()
    assert not sftp_server._state["transports"]  # refused before any connection


def test_an_encrypted_key_is_permanent(sftp_server):
    key = paramiko.ECDSAKey.generate()
    buffer = io.StringIO()
    key.write_private_key(buffer, password="secret")
    with pytest.raises(PermanentError, match="not an unencrypted"):
        _key_folder(sftp_server, private_key=buffer.getvalue()).list_files()


@pytest.mark.parametrize("cls", [paramiko.ECDSAKey, paramiko.RSAKey])
def test_pem_keys_of_ecdsa_and_rsa_load(cls):
    key = cls.generate(bits=2048) if cls is paramiko.RSAKey else cls.generate()
    buffer = io.StringIO()
    key.write_private_key(buffer)
    loaded = load_private_key(buffer.getvalue())
    assert (loaded.get_name(), loaded.get_base64()) == (key.get_name(), key.get_base64())


def test_the_shipping_transport_uploads_with_a_key(sftp_server):
    settings = SftpSettings(
        host=sftp_server.host,
        host_key=sftp_server.host_key,
        port=sftp_server.port,
        user=sftp_server.user,
        private_key=sftp_server.client_key,
        timeout=5,
    )
    with SftpTransport(settings) as sftp:
        assert sftp.upload("d1.xml", b"<x/>") == "/in/d1.xml"
    assert sftp_server.files("in") == ["d1.xml"]


def test_a_session_reconnects_after_close(sftp_server):
    session = SftpSession(
        sftp_server.host,
        sftp_server.host_key,
        sftp_server.port,
        sftp_server.user,
        private_key=sftp_server.client_key,
        timeout=5,
    )
    assert session.run("list", lambda sftp: sorted(sftp.listdir("/"))) == ["in", "out"]
    session.close()
    assert session.run("list", lambda sftp, path: sftp.listdir(path), "/in") == []
    session.close()
    assert len(sftp_server._state["transports"]) == 2
