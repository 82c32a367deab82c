"""A confirmation folder on a real FTP and SFTP server: every file gets an outcome, bad
files and rows are rejected with a reason, the rest of the batch is processed."""

import shutil
from decimal import Decimal
from functools import partial

import pytest

from shopaddons.shipping_exchange.adapters.confirmation_inbox import poll_confirmations
from shopaddons.shipping_exchange.adapters.ftp import FtpSettings, FtpTransport
from shopaddons.shipping_exchange.adapters.sftp import SftpSettings, SftpTransport
from shopaddons.shipping_exchange.services.confirmation import (
    CsvMapping,
    parse_confirmation_file,
)

from ..conftest import DATA_DIR

SAMPLES = DATA_DIR / "shipping" / "confirmations"
KNOWN = {f"WH/OUT/{i:05d}" for i in range(1, 6)}
MAPPING = CsvMapping(
    reference="Lieferschein",
    tracking_ref="Sendungsnummer",
    carrier="Versender",
    sku="Artikelnummer",
    quantity="Menge",
    shipped_date="Versanddatum",
)
TRAVERSAL = "..\\..\\evil.csv"  # a legal file name on the server, a path on Windows


def _ftp(server):
    return FtpTransport(
        FtpSettings(server.host, server.port, server.user, server.password, timeout=10)
    )


def _sftp(server):
    return SftpTransport(
        SftpSettings(
            server.host, server.host_key, server.port, server.user, server.password, timeout=10
        )
    )


@pytest.fixture(params=["ftp", "sftp"])
def remote(request):
    server = request.getfixturevalue(f"{request.param}_server")
    make = _ftp if request.param == "ftp" else _sftp
    return server, make


def _fill(out):
    for sample in SAMPLES.iterdir():
        shutil.copy(sample, out / sample.name)
    (out / TRAVERSAL).write_bytes(b"reference\nWH/OUT/00001\n")
    (out / "label.pdf").write_bytes(b"%PDF-1.4")


def test_every_file_gets_an_outcome_and_good_rows_go_through(remote):
    server, make = remote
    out = server.root / "out"
    _fill(out)
    stored = []
    parse = partial(parse_confirmation_file, mapping=MAPPING, known_references=KNOWN)
    with make(server) as folder:
        outcomes = poll_confirmations(folder, parse, stored.append)
    assert stored == outcomes
    by_name = {o.name: o for o in outcomes}

    xml = by_name["ok_fulfilment.xml"].batch
    assert [c.reference for c in xml.confirmations] == ["WH/OUT/00001", "WH/OUT/00002"]
    assert xml.confirmations[0].lines == (("MUG-01", Decimal(2)), ("TEA-05", Decimal(1)))
    assert {(r.reference, r.reason) for r in xml.rejections} == {
        ("WH/OUT/99999", "unknown reference WH/OUT/99999"),
        ("WH/OUT/00003", "quantity 'zwei' is not a number"),
    }
    csv = by_name["ok_cp1252.csv"].batch
    [four] = csv.confirmations
    assert four.lines == (("MUG-01", Decimal(2)), ("TEE-GRüN", Decimal("1.5")))
    assert four.tracking_ref == "00340434169999999991,00340434169999999992"
    assert [(r.row, r.reference) for r in csv.rejections] == [
        (4, "WH/OUT/00005"),
        (5, "WH/OUT/00005"),
        (6, "WH/OUT/77777"),
    ]

    refused = {o.name: o.error for o in outcomes if o.batch is None}
    assert set(refused) == {
        "billion_laughs.xml",
        "xxe.xml",
        "broken.xml",
        "missing_column.csv",
        "wrong_columns.csv",
        "label.pdf",
        TRAVERSAL,
    }
    assert "DOCTYPE" in refused["billion_laughs.xml"]
    assert "DOCTYPE" in refused["xxe.xml"]
    assert "unsafe file name" in refused[TRAVERSAL]
    assert "not well-formed" in refused["broken.xml"]
    assert "column 'Lieferschein' missing" in refused["wrong_columns.csv"]

    # parsed files to done/, unreadable ones to error/, the unsafe name left untouched
    assert server.files("out/done") == ["ok_cp1252.csv", "ok_fulfilment.xml"]
    assert server.files("out/error") == sorted(set(refused) - {TRAVERSAL})
    assert server.files("out") == [TRAVERSAL]
    assert "root:" not in "".join(str(o) for o in outcomes)  # no /etc/passwd anywhere


def test_a_failing_store_leaves_the_file_for_the_next_run(remote):
    server, make = remote
    out = server.root / "out"
    shutil.copy(SAMPLES / "ok_fulfilment.xml", out / "ok_fulfilment.xml")

    def store_fails(outcome):
        raise RuntimeError("database went away")

    with make(server) as folder, pytest.raises(RuntimeError):
        poll_confirmations(folder, parse_confirmation_file, store_fails)
    assert server.files("out") == ["ok_fulfilment.xml"]

    stored = []
    with make(server) as folder:
        poll_confirmations(folder, parse_confirmation_file, stored.append)
    assert [o.moved_to for o in stored] == ["done"]
    assert server.files("out/done") == ["ok_fulfilment.xml"]


def test_limit_handles_a_batch_at_a_time(remote):
    server, make = remote
    out = server.root / "out"
    for i in range(3):
        shutil.copy(SAMPLES / "ok_fulfilment.xml", out / f"c{i}.xml")
    with make(server) as folder:
        first = poll_confirmations(folder, parse_confirmation_file, lambda o: None, limit=2)
        rest = poll_confirmations(folder, parse_confirmation_file, lambda o: None, limit=2)
    assert [o.name for o in first] == ["c0.xml", "c1.xml"]
    assert [o.name for o in rest] == ["c2.xml"]
