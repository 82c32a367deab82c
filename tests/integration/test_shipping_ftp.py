"""FtpTransport against a real pyftpdlib server (plain FTP and explicit FTPS)."""

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shipping_exchange.adapters.ftp import FtpSettings, FtpTransport

PAYLOAD = b"<DeliveryOrders/>" + b"x" * 300_000


def _settings(server, **overrides) -> FtpSettings:
    values = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "upload_dir": "/in",
        "confirmation_dir": "/out",
        "timeout": 10,
    }
    return FtpSettings(**(values | overrides))


def test_upload_leaves_only_the_final_file(ftp_server):
    with FtpTransport(_settings(ftp_server)) as ftp:
        assert ftp.upload("WH-OUT-00001.xml", PAYLOAD) == "/in/WH-OUT-00001.xml"
    assert ftp_server.files("in") == ["WH-OUT-00001.xml"]
    assert (ftp_server.root / "in" / "WH-OUT-00001.xml").read_bytes() == PAYLOAD


def test_one_connection_uploads_many_files(ftp_server):
    with FtpTransport(_settings(ftp_server)) as ftp:
        for i in range(5):
            ftp.upload(f"d{i}.xml", b"<x/>")
    assert ftp_server.files("in") == [f"d{i}.xml" for i in range(5)]


def test_a_cut_upload_leaves_no_final_file_and_the_retry_succeeds(ftp_server):
    ftp_server.cut_upload_after(50_000)
    transport = FtpTransport(_settings(ftp_server))
    with pytest.raises(TransientError, match=r"upload d1\.xml"):
        transport.upload("d1.xml", PAYLOAD)
    assert ftp_server.cuts == 1
    assert "d1.xml" not in ftp_server.files("in")
    assert ftp_server.files("in") == []  # the partial .part was removed after the cut
    # same transport object: it reconnects by itself
    transport.upload("d1.xml", PAYLOAD)
    transport.close()
    assert ftp_server.files("in") == ["d1.xml"]
    assert (ftp_server.root / "in" / "d1.xml").read_bytes() == PAYLOAD


def test_a_stale_part_file_is_overwritten(ftp_server):
    (ftp_server.root / "in" / "d1.xml.part").write_bytes(b"garbage from yesterday")
    FtpTransport(_settings(ftp_server)).upload("d1.xml", b"<new/>")
    assert ftp_server.files("in") == ["d1.xml"]
    assert (ftp_server.root / "in" / "d1.xml").read_bytes() == b"<new/>"


def test_re_upload_replaces_the_file(ftp_server):
    with FtpTransport(_settings(ftp_server)) as ftp:
        ftp.upload("d1.xml", b"<old/>")
        ftp.upload("d1.xml", b"<new/>")
    assert (ftp_server.root / "in" / "d1.xml").read_bytes() == b"<new/>"


def test_wrong_password_is_permanent(ftp_server):
    with pytest.raises(PermanentError, match="connect"):
        FtpTransport(_settings(ftp_server, password="wrong")).upload("d.xml", b"<x/>")


def test_missing_upload_folder_is_permanent(ftp_server):
    with pytest.raises(PermanentError, match="upload"):
        FtpTransport(_settings(ftp_server, upload_dir="/nowhere")).upload("d.xml", b"<x/>")
    assert ftp_server.files("in") == []


def test_server_down_is_transient(ftp_server):
    settings = _settings(ftp_server)
    ftp_server_port_closed = FtpSettings("127.0.0.1", _free_port(), timeout=2)
    with pytest.raises(TransientError, match="connect"):
        FtpTransport(ftp_server_port_closed).upload("d.xml", b"<x/>")
    assert settings.port != ftp_server_port_closed.port


@pytest.mark.parametrize("name", ["../d.xml", "/etc/passwd", "a\\b.xml", "x\x00.xml", ".part"])
def test_unsafe_upload_names_are_refused(ftp_server, name):
    with pytest.raises(PermanentError, match="unsafe"):
        FtpTransport(_settings(ftp_server)).upload(name, b"<x/>")


def test_list_download_and_move_confirmations(ftp_server):
    out = ftp_server.root / "out"
    (out / "b.csv").write_bytes(b"b")
    (out / "a.xml").write_bytes(b"a")
    (out / "c.xml.part").write_bytes(b"partial")
    (out / "sub").mkdir()
    with FtpTransport(_settings(ftp_server)) as ftp:
        assert ftp.list_files() == ["a.xml", "b.csv"]
        assert ftp.download("a.xml") == b"a"
        assert ftp.move("a.xml", "done") == "/out/done/a.xml"
        assert ftp.move("b.csv", "error") == "/out/error/b.csv"
        assert ftp.list_files() == []
    assert (out / "done" / "a.xml").read_bytes() == b"a"
    assert (out / "error" / "b.csv").read_bytes() == b"b"


def test_moving_a_file_twice_replaces_the_older_copy(ftp_server):
    out = ftp_server.root / "out"
    with FtpTransport(_settings(ftp_server)) as ftp:
        (out / "a.xml").write_bytes(b"first")
        ftp.move("a.xml", "done")
        (out / "a.xml").write_bytes(b"second")
        ftp.move("a.xml", "done")
    assert (out / "done" / "a.xml").read_bytes() == b"second"


def test_download_of_a_vanished_file_is_permanent(ftp_server):
    with pytest.raises(PermanentError, match="download"):
        FtpTransport(_settings(ftp_server)).download("gone.xml")


def test_ftps_upload_with_a_trusted_certificate(ftps_server, self_signed_cert, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(self_signed_cert))
    with FtpTransport(_settings(ftps_server, tls=True)) as ftp:
        ftp.upload("d1.xml", PAYLOAD)
        (ftps_server.root / "out" / "c.xml").write_bytes(b"<c/>")
        assert ftp.list_files() == ["c.xml"]
        assert ftp.download("c.xml") == b"<c/>"
    assert ftps_server.files("in") == ["d1.xml"]


def test_ftps_with_an_untrusted_certificate_is_permanent(ftps_server):
    with pytest.raises(PermanentError, match="certificate"):
        FtpTransport(_settings(ftps_server, tls=True)).upload("d1.xml", b"<x/>")
    assert ftps_server.files("in") == []


def test_ftps_cut_upload_then_retry(ftps_server):
    ftps_server.cut_upload_after(20_000)
    transport = FtpTransport(_settings(ftps_server, tls=True, verify_tls=False))
    with pytest.raises(TransientError):
        transport.upload("d1.xml", PAYLOAD)
    assert "d1.xml" not in ftps_server.files("in")
    transport.upload("d1.xml", PAYLOAD)
    transport.close()
    assert ftps_server.files("in") == ["d1.xml"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
