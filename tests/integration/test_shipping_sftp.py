"""SftpTransport against a real paramiko SFTP server."""

import paramiko
import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shipping_exchange.adapters.sftp import (
    SftpSettings,
    SftpTransport,
    fetch_host_key,
)

PAYLOAD = b"<DeliveryOrders/>" + b"y" * 200_000


def _settings(server, **overrides) -> SftpSettings:
    values = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "host_key": server.host_key,
        "upload_dir": "/in",
        "confirmation_dir": "/out",
        "timeout": 10,
    }
    return SftpSettings(**(values | overrides))


def test_upload_leaves_only_the_final_file(sftp_server):
    with SftpTransport(_settings(sftp_server)) as sftp:
        assert sftp.upload("WH-OUT-1.xml", PAYLOAD) == "/in/WH-OUT-1.xml"
        sftp.upload("WH-OUT-2.xml", b"<x/>")
    assert sftp_server.files("in") == ["WH-OUT-1.xml", "WH-OUT-2.xml"]
    assert (sftp_server.root / "in" / "WH-OUT-1.xml").read_bytes() == PAYLOAD


def test_a_cut_upload_leaves_no_final_file_and_the_retry_succeeds(sftp_server):
    sftp_server.cut_upload_after(40_000)
    transport = SftpTransport(_settings(sftp_server))
    with pytest.raises(TransientError, match=r"upload d1\.xml"):
        transport.upload("d1.xml", PAYLOAD)
    assert sftp_server.cuts == 1
    assert "d1.xml" not in sftp_server.files("in")
    assert sftp_server.files("in") == []  # the partial .part was removed after the cut
    transport.upload("d1.xml", PAYLOAD)  # reconnects by itself
    transport.close()
    assert sftp_server.files("in") == ["d1.xml"]
    assert (sftp_server.root / "in" / "d1.xml").read_bytes() == PAYLOAD


def test_re_upload_replaces_the_file_and_a_stale_part(sftp_server):
    (sftp_server.root / "in" / "d1.xml.part").write_bytes(b"stale")
    with SftpTransport(_settings(sftp_server)) as sftp:
        sftp.upload("d1.xml", b"<old/>")
        sftp.upload("d1.xml", b"<new/>")
    assert sftp_server.files("in") == ["d1.xml"]
    assert (sftp_server.root / "in" / "d1.xml").read_bytes() == b"<new/>"


def test_wrong_password_is_permanent(sftp_server):
    with pytest.raises(PermanentError, match="Authentication"):
        SftpTransport(_settings(sftp_server, password="nope")).upload("d.xml", b"<x/>")


def test_missing_host_key_refuses_to_connect(sftp_server):
    with pytest.raises(PermanentError, match="host key not configured"):
        SftpTransport(_settings(sftp_server, host_key="")).upload("d.xml", b"<x/>")
    assert sftp_server.files("in") == []


def test_a_different_host_key_is_refused(sftp_server):
    other = paramiko.ECDSAKey.generate()
    pinned = f"{other.get_name()} {other.get_base64()}"
    with pytest.raises(PermanentError, match="host key mismatch"):
        SftpTransport(_settings(sftp_server, host_key=pinned)).upload("d.xml", b"<x/>")
    assert sftp_server.files("in") == []


def test_a_known_hosts_line_is_accepted_as_pin(sftp_server):
    line = f"[127.0.0.1]:{sftp_server.port} {sftp_server.host_key} comment"
    with SftpTransport(_settings(sftp_server, host_key=line)) as sftp:
        sftp.upload("d.xml", b"<x/>")
    assert sftp_server.files("in") == ["d.xml"]


def test_a_malformed_pin_is_permanent(sftp_server):
    with pytest.raises(PermanentError, match="is not '<type> <base64>'"):
        SftpTransport(_settings(sftp_server, host_key="AAAAC3Nza")).upload("d.xml", b"<x/>")


def test_fetch_host_key_returns_the_pinnable_key(sftp_server):
    assert fetch_host_key(sftp_server.host, sftp_server.port, timeout=10) == sftp_server.host_key


def test_missing_upload_folder_is_permanent(sftp_server):
    with pytest.raises(PermanentError, match="upload"):
        SftpTransport(_settings(sftp_server, upload_dir="/nowhere")).upload("d.xml", b"<x/>")


def test_server_down_is_transient(sftp_server):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientError, match="connect"):
        SftpTransport(_settings(sftp_server, port=port, timeout=2)).upload("d.xml", b"<x/>")


def test_list_download_and_move_confirmations(sftp_server):
    out = sftp_server.root / "out"
    (out / "b.csv").write_bytes(b"b")
    (out / "a.xml").write_bytes(b"a")
    (out / "c.xml.part").write_bytes(b"partial")
    (out / "sub").mkdir()
    with SftpTransport(_settings(sftp_server)) as sftp:
        assert sftp.list_files() == ["a.xml", "b.csv"]
        assert sftp.download("a.xml") == b"a"
        assert sftp.move("a.xml", "done") == "/out/done/a.xml"
        assert sftp.move("b.csv", "error") == "/out/error/b.csv"
        assert sftp.list_files() == []
        (out / "a.xml").write_bytes(b"again")
        sftp.move("a.xml", "done")
    assert (out / "done" / "a.xml").read_bytes() == b"again"
    assert (out / "error" / "b.csv").read_bytes() == b"b"


def test_download_of_a_vanished_file_is_permanent(sftp_server):
    with pytest.raises(PermanentError, match="download"):
        SftpTransport(_settings(sftp_server)).download("gone.xml")
