"""Order and statement files in a folder on real local FTP and SFTP servers."""

from __future__ import annotations

import time
from dataclasses import replace

import paramiko
import pytest
from pyftpdlib.handlers import DTPHandler, FTPHandler

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.remote_folder import (
    FtpFolder,
    FtpFolderSettings,
    LocalFolder,
    SftpFolder,
    SftpFolderSettings,
    free_name,
    pick_up,
    safe_name,
)
from shopaddons.shop_connector.adapters.statement_folder import SftpStatementFolder

from .servers.ftp import _serve


def _ftp_folder(server, **overrides) -> FtpFolder:
    settings = FtpFolderSettings(
        server.host, server.port, server.user, server.password, path="/out", timeout=5
    )
    return FtpFolder(replace(settings, **overrides))


def _sftp_folder(server, **overrides) -> SftpFolder:
    settings = SftpFolderSettings(
        server.host,
        server.host_key,
        server.port,
        server.user,
        server.password,
        path="/out",
        timeout=5,
    )
    return SftpFolder(replace(settings, **overrides))


@pytest.fixture(params=["ftp", "sftp", "local"])
def remote(request, tmp_path):
    """``(make_folder, out_dir)`` for a folder ``/out`` on each kind of server."""
    if request.param == "ftp":
        server = request.getfixturevalue("ftp_server")
        return (lambda: _ftp_folder(server)), server.root / "out"
    if request.param == "sftp":
        server = request.getfixturevalue("sftp_server")
        return (lambda: _sftp_folder(server)), server.root / "out"
    out = tmp_path / "out"
    out.mkdir()
    return (lambda: LocalFolder(str(out))), out


def _fill(out):
    (out / "b_orders.csv").write_bytes(b"B")
    (out / "a_orders.json").write_bytes(b'{"orders": []}')
    (out / "c_upload.csv.part").write_bytes(b"half")
    (out / ".hidden.csv").write_bytes(b"")
    (out / "sub").mkdir()


def test_waiting_files_are_listed_read_and_moved(remote):
    make, out = remote
    _fill(out)
    with make() as folder:
        assert folder.list_files() == ["a_orders.json", "b_orders.csv"]
        assert folder.download("a_orders.json") == b'{"orders": []}'
        folder.move("a_orders.json", "done", "2 orders")
        folder.move("b_orders.csv", "error", "row 3: no quantity")
        assert folder.list_files() == []
    assert (out / "done" / "a_orders.json").read_bytes() == b'{"orders": []}'
    assert (out / "done" / "a_orders.json.reason.txt").read_text() == "2 orders\n"
    assert (out / "error" / "b_orders.csv.reason.txt").read_text() == "row 3: no quantity\n"
    assert sorted(p.name for p in out.iterdir()) == [
        ".hidden.csv",
        "c_upload.csv.part",
        "done",
        "error",
        "sub",
    ]


def test_a_name_clash_never_overwrites(remote):
    make, out = remote
    (out / "done").mkdir()
    (out / "done" / "orders.csv").write_bytes(b"first")
    (out / "done" / "orders-2.csv").write_bytes(b"second")
    (out / "orders.csv").write_bytes(b"third")
    with make() as folder:
        final = folder.move("orders.csv", "done", "again")
    assert final.endswith("/done/orders-3.csv")
    assert (out / "done" / "orders.csv").read_bytes() == b"first"
    assert (out / "done" / "orders-2.csv").read_bytes() == b"second"
    assert (out / "done" / "orders-3.csv").read_bytes() == b"third"
    assert (out / "done" / "orders-3.csv.reason.txt").read_text() == "again\n"


def test_a_failed_file_is_listed_and_restored_for_the_next_run(remote):
    make, out = remote
    (out / "orders.csv").write_bytes(b"bad")
    with make() as folder:
        folder.move("orders.csv", "error", "broken")
        assert folder.failed_files() == ["orders.csv"]
        (out / "orders.csv").write_bytes(b"newer file of the same name")
        folder.restore("orders.csv")
        assert folder.failed_files() == []
        assert folder.list_files() == ["orders-2.csv", "orders.csv"]
        assert folder.download("orders-2.csv") == b"bad"
    assert not (out / "error" / "orders.csv.reason.txt").exists()


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "..", "/etc/passwd", "sub/../../x.csv", ".hidden", "a.csv.part"]
)
def test_path_traversal_and_hidden_names_are_refused(remote, name):
    make, out = remote
    (out / "orders.csv").write_bytes(b"x")
    with make() as folder:
        with pytest.raises(PermanentError, match="unsafe"):
            folder.download(name)
        with pytest.raises(PermanentError, match="unsafe"):
            folder.move(name, "done")
        with pytest.raises(PermanentError, match="unknown folder"):
            folder.move("orders.csv", "../../elsewhere")
    assert (out / "orders.csv").exists()


def test_pick_up_stores_then_moves_and_a_refused_file_goes_to_error(remote):
    make, out = remote
    (out / "a.json").write_bytes(b"good")
    (out / "b.json").write_bytes(b"bad")
    stored = []

    def store(name, content):
        if content == b"bad":
            raise PermanentError("not JSON")
        stored.append(name)
        return "1 order"

    with make() as folder:
        picked = pick_up(folder, store)
    assert [(p.name, p.moved_to, p.note) for p in picked] == [
        ("a.json", "done", "1 order"),
        ("b.json", "error", "not JSON"),
    ]
    assert stored == ["a.json"]
    assert (out / "error" / "b.json.reason.txt").read_text() == "not JSON\n"


def test_free_name_keeps_the_suffix():
    assert free_name("a.csv", set()) == "a.csv"
    assert free_name("a.csv", {"a.csv"}) == "a-2.csv"
    assert free_name("a.csv", {"a.csv", "a-2.csv"}) == "a-3.csv"
    assert free_name("README", {"README"}) == "README-2"
    assert safe_name("Bestellungen 2026-03.csv") == "Bestellungen 2026-03.csv"
    assert safe_name("Bestellübersicht März (2).csv") == "Bestellübersicht März (2).csv"


@pytest.mark.parametrize(
    "name", ["a/b.csv", "a\\b.csv", "a\x00b.csv", "a\nb.csv", "_x.csv", "", "c:x.csv", "x" * 300]
)
def test_names_that_are_not_plain_file_names_are_unsafe(name):
    with pytest.raises(PermanentError, match="unsafe"):
        safe_name(name)


# --- FTP specifics -------------------------------------------------------------------


class _DroppingHandler(FTPHandler):
    """Drops the whole session when a file named ``drop*`` is requested."""

    def ftp_RETR(self, file):
        if "drop" in file.rsplit("/", 1)[-1]:
            self.close()
            return None
        return super().ftp_RETR(file)


@pytest.fixture
def dropping_ftp_server(tmp_path):
    stop, thread, info = _serve(tmp_path, _DroppingHandler, DTPHandler)
    yield info
    stop.set()
    thread.join(5)


def test_ftp_dropped_connection_is_transient_and_moves_nothing(dropping_ftp_server):
    out = dropping_ftp_server.root / "out"
    (out / "a.csv").write_bytes(b"A")
    (out / "drop.csv").write_bytes(b"D")
    stored = []

    def store(name, content):
        stored.append(name)
        return "ok"

    folder = _ftp_folder(dropping_ftp_server)
    with pytest.raises(TransientError, match=r"download drop\.csv"):
        pick_up(folder, store)
    assert stored == ["a.csv"]
    assert (out / "drop.csv").exists(), "the dropped file waits for the next run"
    # the session is opened again on the next call
    assert folder.list_files() == ["drop.csv"]
    folder.close()


def test_ftp_login_refused_is_permanent_and_no_server_transient(ftp_server):
    with pytest.raises(PermanentError, match="FTP connect"):
        _ftp_folder(ftp_server, password="wrong").list_files()
    with pytest.raises(TransientError, match="FTP connect"):
        _ftp_folder(ftp_server, port=1).list_files()


def test_ftps_needs_a_trusted_certificate(ftps_server):
    with pytest.raises(PermanentError, match="FTP connect"):
        _ftp_folder(ftps_server, tls=True).list_files()


# --- SFTP specifics ------------------------------------------------------------------


def test_sftp_host_key_is_required_and_pinned(sftp_server):
    with pytest.raises(PermanentError, match="host key not configured"):
        _sftp_folder(sftp_server, host_key="").list_files()
    other = paramiko.ECDSAKey.generate()
    with pytest.raises(PermanentError, match="host key mismatch"):
        _sftp_folder(sftp_server, host_key=f"{other.get_name()} {other.get_base64()}").list_files()
    with pytest.raises(PermanentError, match="SFTP connect"):
        _sftp_folder(sftp_server, password="wrong").list_files()


def test_sftp_missing_folder_is_permanent_and_no_server_transient(sftp_server):
    with pytest.raises(PermanentError, match="SFTP list"):
        _sftp_folder(sftp_server, path="/nowhere").list_files()
    with pytest.raises(TransientError, match="SFTP connect"):
        _sftp_folder(sftp_server, port=1).list_files()


def test_sftp_dropped_connection_is_transient_and_the_next_call_reconnects(sftp_server):
    out = sftp_server.root / "out"
    (out / "a.csv").write_bytes(b"A")
    folder = SftpStatementFolder(_sftp_folder(sftp_server).settings)
    assert folder.list_files() == ["a.csv"]
    for transport in sftp_server._state["transports"]:
        transport.close()  # the server side hangs up
    deadline = time.monotonic() + 5
    while folder._transport.is_active() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(TransientError):
        folder.download("a.csv")
    assert (out / "a.csv").exists()
    assert folder.list_files() == ["a.csv"]
    folder.move("a.csv", "done")
    folder.close()
    assert (out / "done" / "a.csv").read_bytes() == b"A"
