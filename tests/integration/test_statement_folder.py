"""Statement files picked up from a real local folder: done/, error/ with the reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.statement_folder import (
    FtpFolderSettings,
    FtpStatementFolder,
    LocalStatementFolder,
    file_format,
    pick_up,
)
from shopaddons.shop_connector.services.camt import parse_camt053

DATA = Path(__file__).resolve().parents[2] / "addons" / "shop_connector" / "tests" / "data"


@pytest.fixture
def folder(tmp_path):
    for name in ("b_statement.xml", "a_statement.xml"):
        (tmp_path / name).write_bytes((DATA / "payments_camt053_v08_bank.xml").read_bytes())
    (tmp_path / "c_hostile.xml").write_bytes((DATA / "payments_camt053_xxe.xml").read_bytes())
    (tmp_path / "d_upload.xml.part").write_bytes(b"<half")
    (tmp_path / ".hidden.xml").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_files_are_stored_then_moved_and_the_store_is_called_in_name_order(folder):
    seen_keys: set[str] = set()
    calls = []

    def store(name, content):
        calls.append(name)
        statements = parse_camt053(content)
        keys = {t.key for s in statements for t in s.transactions}
        new = keys - seen_keys
        seen_keys.update(keys)
        return f"{len(new)} new, {len(keys) - len(new)} already imported"

    picked = pick_up(LocalStatementFolder(str(folder)), store)
    assert calls == ["a_statement.xml", "b_statement.xml", "c_hostile.xml"]
    assert [(p.name, p.moved_to) for p in picked] == [
        ("a_statement.xml", "done"),
        ("b_statement.xml", "done"),
        ("c_hostile.xml", "error"),
    ]
    assert picked[0].note == "3 new, 0 already imported"
    assert picked[1].note == "0 new, 3 already imported"
    assert sorted(p.name for p in (folder / "done").iterdir()) == [
        "a_statement.xml",
        "a_statement.xml.reason.txt",
        "b_statement.xml",
        "b_statement.xml.reason.txt",
    ]
    reason = (folder / "error" / "c_hostile.xml.reason.txt").read_text(encoding="utf-8")
    assert "CAMT" in reason
    # what is left: the partial upload, the hidden file and the sub folder
    assert sorted(p.name for p in folder.iterdir()) == [
        ".hidden.xml",
        "d_upload.xml.part",
        "done",
        "error",
        "sub",
    ]


def test_a_failing_store_leaves_the_file_for_the_next_run(folder):
    def store(name, content):
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        pick_up(LocalStatementFolder(str(folder)), store)
    assert (folder / "a_statement.xml").exists()
    assert not (folder / "done").exists()
    picked = pick_up(LocalStatementFolder(str(folder)), lambda name, content: "ok", limit=1)
    assert [(p.name, p.moved_to) for p in picked] == [("a_statement.xml", "done")]
    assert (folder / "b_statement.xml").exists()


def test_a_file_moved_twice_keeps_the_older_one_and_gets_a_counter(folder):
    local = LocalStatementFolder(str(folder))
    first = (folder / "a_statement.xml").read_bytes()
    local.move("a_statement.xml", "done")
    (folder / "a_statement.xml").write_bytes(b"again")
    assert local.move("a_statement.xml", "done", "second") == str(
        folder / "done" / "a_statement-2.xml"
    )
    assert (folder / "done" / "a_statement.xml").read_bytes() == first
    assert (folder / "done" / "a_statement-2.xml").read_bytes() == b"again"
    assert (folder / "done" / "a_statement-2.xml.reason.txt").read_text() == "second\n"


@pytest.mark.parametrize("path", ["", "relative/dir", "/does/not/exist"])
def test_bad_folder_is_a_permanent_error(path):
    with pytest.raises(PermanentError):
        LocalStatementFolder(path)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("2026-03-02.XML", "camt"), ("umsaetze.csv", "csv"), ("export.txt", "csv")],
)
def test_format_from_the_suffix(name, kind):
    assert file_format(name) == kind


def test_unknown_suffix_and_unsafe_names_are_refused(folder):
    with pytest.raises(PermanentError, match="not a statement file"):
        file_format("invoice.pdf")
    local = LocalStatementFolder(str(folder))
    with pytest.raises(PermanentError, match="unsafe"):
        local.download("../etc/passwd")
    with pytest.raises(PermanentError, match="unknown folder"):
        local.move("a_statement.xml", "elsewhere")


# --- FTP ---------------------------------------------------------------------------------


def _ftp(server, **overrides) -> FtpStatementFolder:
    settings = FtpFolderSettings(
        server.host, server.port, server.user, server.password, path="/out", timeout=5
    )
    return FtpStatementFolder(replace(settings, **overrides))


def test_ftp_folder_files_are_picked_up_once_and_moved(ftp_server):
    out = ftp_server.root / "out"
    (out / "a_statement.xml").write_bytes((DATA / "payments_camt053_v08_bank.xml").read_bytes())
    (out / "b_hostile.xml").write_bytes((DATA / "payments_camt053_xxe.xml").read_bytes())
    (out / "c_upload.xml.part").write_bytes(b"<half")

    def store(name, content):
        statements = parse_camt053(content)
        return f"{sum(len(s.transactions) for s in statements)} movements"

    with _ftp(ftp_server) as folder:
        picked = pick_up(folder, store)
    assert [(p.name, p.moved_to) for p in picked] == [
        ("a_statement.xml", "done"),
        ("b_hostile.xml", "error"),
    ]
    assert ftp_server.files("out") == ["c_upload.xml.part"]
    assert ftp_server.files("out/done") == ["a_statement.xml", "a_statement.xml.reason.txt"]
    assert (out / "done" / "a_statement.xml.reason.txt").read_text() == "3 movements\n"
    assert "CAMT" in (out / "error" / "b_hostile.xml.reason.txt").read_text()
    # nothing waits any more: a second run reads nothing
    with _ftp(ftp_server) as folder:
        assert pick_up(folder, store) == []


def test_ftp_file_moved_again_keeps_the_older_one_and_gets_a_counter(ftp_server):
    out = ftp_server.root / "out"
    (out / "done").mkdir()
    (out / "done" / "a.xml").write_bytes(b"old")
    (out / "a.xml").write_bytes(b"new")
    with _ftp(ftp_server) as folder:
        assert folder.move("a.xml", "done") == "/out/done/a-2.xml"
    assert (out / "done" / "a.xml").read_bytes() == b"old"
    assert (out / "done" / "a-2.xml").read_bytes() == b"new"


def test_ftp_wrong_password_is_permanent_and_a_dead_server_transient(ftp_server):
    with pytest.raises(PermanentError, match="FTP connect"):
        _ftp(ftp_server, password="wrong").list_files()
    with pytest.raises(TransientError, match="FTP connect"):
        _ftp(ftp_server, port=1).list_files()


def test_ftp_missing_folder_is_permanent(ftp_server):
    with pytest.raises(PermanentError, match="FTP list"):
        _ftp(ftp_server, path="/nowhere").list_files()


def test_ftps_with_an_untrusted_certificate_is_permanent(ftps_server):
    with pytest.raises(PermanentError, match="FTP connect"):
        _ftp(ftps_server, tls=True).list_files()
