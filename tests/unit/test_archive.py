"""GoBD archive: digests, hash chain, tamper detection, retention, tax-audit export."""

import csv
import dataclasses
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services import archive as arc
from shopaddons.mail_crm_shop.services.archive_export import build_export, write_export
from shopaddons.mail_crm_shop.services.archive_export_files import export_file_name
from shopaddons.mail_crm_shop.services.errors import PermanentError

from ..conftest import ROOT

VERIFY_SCRIPT = ROOT / "scripts" / "verify_archive_export.py"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def _raw(n: int) -> bytes:
    return (
        f"From: kunde{n}@example.de\r\nTo: shop@example.com\r\nSubject: Bestellung {n}\r\n"
        f"Message-ID: <m{n}@example.de>\r\n\r\nHallo, wo bleibt Bestellung {n}?\r\n"
    ).encode()


def _chain(count: int, start: datetime = T0, step: timedelta = timedelta(hours=7)):
    entries, previous = [], None
    for n in range(1, count + 1):
        previous = arc.make_entry(
            _raw(n),
            start + step * (n - 1),
            previous,
            sender=f"kunde{n}@example.de",
            recipients=("shop@example.com",),
            subject=f"Bestellung {n}",
            case=f"CASE/{n:04d}",
        )
        entries.append(previous)
    return entries


def test_digest_is_sha256_of_the_exact_bytes():
    raw = b"Subject: x\r\n\r\nbody\r\n"
    assert arc.content_sha256(raw) == hashlib.sha256(raw).hexdigest()
    assert arc.content_sha256(raw) != arc.content_sha256(raw.replace(b"\r\n", b"\n"))


def test_chain_hash_follows_the_documented_formula():
    entry = _chain(1)[0]
    text = f"gobd-chain-v1|{'0' * 64}|{entry.sha256}|2026-03-02T09:30:00.000000Z|1"
    assert entry.chain_hash == hashlib.sha256(text.encode()).hexdigest()


def test_timestamp_is_normalised_to_utc():
    berlin = timezone(timedelta(hours=1))
    assert arc.format_archived_at(datetime(2026, 1, 1, 0, 30, tzinfo=berlin)) == (
        "2025-12-31T23:30:00.000000Z"
    )


def test_naive_timestamps_are_refused():
    with pytest.raises(PermanentError, match="timezone-aware"):
        arc.make_entry(b"x", datetime(2026, 1, 1), None)


def test_a_new_entry_cannot_go_back_in_time():
    first = _chain(1)[0]
    with pytest.raises(PermanentError, match="back in time"):
        arc.make_entry(b"x", T0 - timedelta(seconds=1), first)


def test_an_intact_chain_verifies():
    result = arc.verify_chain(_chain(5))
    assert result == arc.VerifyResult(True, None, "", 5)


@pytest.mark.parametrize("victim", [1, 3, 5])
def test_one_changed_byte_is_found_at_that_entry(victim):
    entries = _chain(5)
    raw = bytearray(entries[victim - 1].raw)
    raw[-5] ^= 0x01
    entries[victim - 1] = dataclasses.replace(entries[victim - 1], raw=bytes(raw))
    result = arc.verify_chain(entries)
    assert (result.ok, result.first_broken_sequence) == (False, victim)
    assert "content changed" in result.reason


def test_a_consistently_rehashed_message_breaks_the_chain_there():
    entries = _chain(4)
    forged = b"Subject: forged\r\n\r\n"
    entries[1] = dataclasses.replace(entries[1], raw=forged, sha256=arc.content_sha256(forged))
    result = arc.verify_chain(entries)
    assert (result.first_broken_sequence, result.reason.split(":")[0]) == (2, "chain hash mismatch")


def test_a_changed_chain_hash_is_found():
    entries = _chain(4)
    entries[2] = dataclasses.replace(entries[2], chain_hash="f" * 64)
    assert arc.verify_chain(entries).first_broken_sequence == 3


def test_a_rebuilt_tail_after_a_changed_entry_still_breaks_at_the_successor():
    entries = _chain(4)
    entries[1] = dataclasses.replace(entries[1], chain_hash="a" * 64)
    # the forger recomputes entry 3 and 4 from the forged entry 2 ...
    previous = entries[1]
    for i in (2, 3):
        entries[i] = dataclasses.replace(
            entries[i],
            chain_hash=arc.compute_chain_hash(
                previous.chain_hash, entries[i].sha256, entries[i].archived_at, entries[i].sequence
            ),
        )
        previous = entries[i]
    # ... but entry 2 itself no longer matches its predecessor
    assert arc.verify_chain(entries).first_broken_sequence == 2


def test_a_changed_timestamp_is_found():
    entries = _chain(3)
    entries[1] = dataclasses.replace(entries[1], archived_at=entries[1].archived_at + timedelta(1))
    assert arc.verify_chain(entries).first_broken_sequence == 2


def test_a_gap_is_found():
    entries = _chain(5)
    del entries[2]
    result = arc.verify_chain(entries)
    assert (result.first_broken_sequence, result.reason) == (
        4,
        "gap in sequence: expected 3, found 4",
    )


def test_a_missing_first_entry_is_a_gap():
    assert arc.verify_chain(_chain(3)[1:]).first_broken_sequence == 2


def test_a_reordering_is_found():
    entries = _chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    result = arc.verify_chain(entries)
    assert result.first_broken_sequence == 3
    assert "gap" in result.reason or "order" in result.reason
    entries = _chain(5)
    entries[3], entries[4] = entries[4], entries[3]
    assert arc.verify_chain(entries).first_broken_sequence == 5


def test_a_duplicated_entry_is_out_of_order():
    entries = _chain(3)
    result = arc.verify_chain([entries[0], entries[1], entries[1], entries[2]])
    assert (result.first_broken_sequence, result.reason.startswith("sequence out of order")) == (
        2,
        True,
    )


def test_renumbered_entries_are_found():
    entries = _chain(3)
    entries[2] = dataclasses.replace(entries[2], sequence=7)
    tail = [dataclasses.replace(entries[2], sequence=3)]
    assert arc.verify_chain(entries[:2] + tail).ok
    entries[1] = dataclasses.replace(entries[1], sequence=2)
    swapped = [entries[0], dataclasses.replace(entries[1], raw=entries[0].raw)]
    assert not arc.verify_chain(swapped).ok


def test_a_slice_verifies_from_its_anchor():
    entries = _chain(6)
    assert arc.verify_chain(entries[3:], prev_chain_hash=entries[2].chain_hash).ok
    assert not arc.verify_chain(entries[3:], prev_chain_hash=entries[1].chain_hash).ok


@given(st.lists(st.binary(max_size=64), min_size=1, max_size=8), st.data())
def test_any_single_byte_change_is_detected_at_its_entry(bodies, data):
    entries, previous = [], None
    for i, body in enumerate(bodies):
        previous = arc.make_entry(b"X: " + body, T0 + timedelta(minutes=i), previous)
        entries.append(previous)
    victim = data.draw(st.integers(0, len(entries) - 1))
    raw = bytearray(entries[victim].raw)
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    entries[victim] = dataclasses.replace(entries[victim], raw=bytes(raw))
    assert arc.verify_chain(entries).first_broken_sequence == victim + 1


# --- retention ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("archived_at", "category", "end"),
    [
        (datetime(2026, 3, 2, tzinfo=timezone.utc), "default", date(2036, 12, 31)),
        (datetime(2026, 1, 1, 8, tzinfo=timezone.utc), "default", date(2036, 12, 31)),
        (datetime(2026, 3, 2, tzinfo=timezone.utc), "business_letter", date(2032, 12, 31)),
        (datetime(2026, 3, 2, tzinfo=timezone.utc), "accounting_voucher", date(2034, 12, 31)),
        (datetime(2026, 3, 2, tzinfo=timezone.utc), "no_such_category", date(2036, 12, 31)),
        # 23:30 UTC on New Year's Eve is already 2027 in Berlin: the period starts a year later
        (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), "default", date(2037, 12, 31)),
    ],
)
def test_retention_runs_to_the_end_of_the_calendar_year(archived_at, category, end):
    assert arc.retention_end(archived_at, category) == end


def test_retention_table_is_an_input():
    table = {"default": 10, "newsletter": 0}
    moment = datetime(2026, 5, 1, tzinfo=timezone.utc)
    assert arc.retention_end(moment, "newsletter", retention_years=table) == date(2026, 12, 31)
    with pytest.raises(PermanentError, match="no retention period"):
        arc.retention_end(moment, "x", retention_years={"business_letter": 6})


def test_a_legal_hold_extends_retention_but_never_shortens_it():
    moment = datetime(2026, 5, 1, tzinfo=timezone.utc)
    assert arc.retention_end(moment, legal_hold_until=date(2040, 6, 30)) == date(2040, 6, 30)
    assert arc.retention_end(moment, legal_hold_until=date(2027, 1, 1)) == date(2036, 12, 31)


def _entry(**changes):
    return dataclasses.replace(_chain(1)[0], **changes)


@pytest.mark.parametrize(
    ("now", "allowed", "reason"),
    [
        (datetime(2036, 12, 31, 22, 59, tzinfo=timezone.utc), False, "runs until 2036-12-31"),
        (datetime(2036, 12, 31, 23, 0, tzinfo=timezone.utc), True, "ended on 2036-12-31"),
        (datetime(2040, 1, 1, tzinfo=timezone.utc), True, "ended on 2036-12-31"),
    ],
)
def test_can_delete_after_the_last_day_only(now, allowed, reason):
    assert arc.can_delete(_entry(), now) == (allowed, f"retention period {reason}")


def test_a_business_letter_may_go_earlier():
    letter = _entry(category="business_letter")
    assert arc.can_delete(letter, datetime(2033, 1, 2, tzinfo=timezone.utc))[0]


def test_a_legal_hold_blocks_deletion_until_it_ends():
    held = _entry(category="business_letter", legal_hold_until=date(2034, 6, 30))
    assert arc.can_delete(held, datetime(2034, 6, 30, 12, tzinfo=timezone.utc)) == (
        False,
        "legal hold until 2034-06-30",
    )
    assert arc.can_delete(held, datetime(2034, 7, 1, 12, tzinfo=timezone.utc))[0]


def test_can_delete_needs_an_aware_now():
    with pytest.raises(PermanentError):
        arc.can_delete(_entry(), datetime(2040, 1, 1))


# --- export ------------------------------------------------------------------------------


def _berlin_day(entry):
    return entry.archived_at.astimezone(arc.DEFAULT_TIMEZONE).date()


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_export_holds_the_selected_messages_byte_for_byte():
    entries = _chain(10)  # 7 h apart: 2026-03-02 09:30 ... 2026-03-04 16:30
    data = build_export(entries, date(2026, 3, 3), date(2026, 3, 3))
    with _zip(data) as archive:
        names = archive.namelist()
        files = [n for n in names if n.startswith("eml/")]
        manifest = json.loads(archive.read("manifest.json"))
        # the day is the merchant's (Berlin): entry 3 at 23:30 UTC belongs to 3 March
        selected = [e for e in entries if _berlin_day(e) == date(2026, 3, 3)]
        assert [archive.read(f) for f in files] == [e.raw for e in selected]
        assert files[0] == f"eml/{selected[0].sequence:010d}_{selected[0].sha256}.eml"
    assert names[-3:] == ["index.csv", "manifest.json", "README.txt"]
    assert [e.sequence for e in selected] == [3, 4, 5, 6]
    assert manifest["entry_count"] == 4
    assert manifest["prev_chain_hash"] == entries[selected[0].sequence - 2].chain_hash
    assert manifest["first_chain_hash"] == selected[0].chain_hash
    assert manifest["last_chain_hash"] == selected[-1].chain_hash
    assert manifest["algorithm"]["version"] == "gobd-chain-v1"


def test_export_index_opens_in_german_excel():
    entries = _chain(2)
    entries[1] = arc.make_entry(
        "Subject: Rückfrage\r\n\r\nx".encode(),
        entries[0].archived_at + timedelta(hours=1),
        entries[0],
        sender="Jürgen Weiß <jw@example.de>",
        recipients=("a@example.com", "b@example.com"),
        subject='=HYPERLINK("http://evil"); Größe',
        case="CASE/0002",
    )
    with _zip(build_export(entries, date(2026, 1, 1), date(2026, 12, 31))) as archive:
        raw_csv = archive.read("index.csv")
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:8] == [
        "sequence",
        "date",
        "sender",
        "recipients",
        "subject",
        "case",
        "sha256",
        "chain_hash",
    ]
    assert rows[2][2:6] == [
        "Jürgen Weiß <jw@example.de>",
        "a@example.com, b@example.com",
        '\'=HYPERLINK("http://evil"); Größe',
        "CASE/0002",
    ]
    assert rows[2][6:8] == [entries[1].sha256, entries[1].chain_hash]


def test_export_is_deterministic():
    entries = _chain(4)
    first = build_export(entries, date(2026, 1, 1), date(2026, 12, 31))
    assert first == build_export(list(reversed(entries)), date(2026, 1, 1), date(2026, 12, 31))
    with _zip(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_export_refuses_a_broken_chain():
    entries = _chain(4)
    entries[2] = dataclasses.replace(entries[2], raw=b"tampered")
    with pytest.raises(PermanentError, match="sequence 3: content changed"):
        build_export(entries, date(2026, 1, 1), date(2026, 12, 31))


def test_export_of_a_slice_needs_its_predecessor():
    entries = _chain(10)
    with pytest.raises(PermanentError, match="chain hash before sequence 5"):
        build_export(entries[4:], date(2026, 3, 3), date(2026, 3, 4))
    data = build_export(
        entries[4:], date(2026, 3, 3), date(2026, 3, 4), prev_chain_hash=entries[3].chain_hash
    )
    manifest = json.loads(_zip(data).read("manifest.json"))
    # entry 10 (00:30 UTC on 5 March) is already 5 March in Berlin: not selected
    assert [e["sequence"] for e in manifest["entries"]] == [5, 6, 7, 8, 9]


def test_export_refuses_reversed_dates():
    with pytest.raises(PermanentError, match="date_from"):
        build_export(_chain(1), date(2026, 2, 1), date(2026, 1, 1))


# --- the auditor's check command ---------------------------------------------------------


def _run_verify(path):
    return subprocess.run(
        [sys.executable, str(VERIFY_SCRIPT), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _rewrite(data: bytes, change) -> bytes:
    """Return a copy of the ZIP ``data`` with ``change(name, content) -> content|None``."""
    out = io.BytesIO()
    with _zip(data) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = change(info.filename, src.read(info.filename))
            if content is not None:
                dst.writestr(info.filename, content)
    return out.getvalue()


@pytest.fixture
def export_zip(tmp_path):
    entries = _chain(6)
    path = tmp_path / "export.zip"
    path.write_bytes(build_export(entries, date(2026, 3, 3), date(2026, 3, 4)))
    return path, entries


def test_verify_script_says_ok_for_an_intact_export(export_zip):
    path, entries = export_zip
    done = _run_verify(path)
    assert (done.returncode, done.stdout.split()[:2]) == (0, ["OK", "4"])
    assert entries[-1].chain_hash in done.stdout


def test_verify_script_finds_a_changed_byte(export_zip, tmp_path):
    path, entries = export_zip
    victim = export_file_name(entries[3])

    def flip(name, content):
        return content.replace(b"Hallo", b"Hallo!") if name == victim else content

    broken = tmp_path / "broken.zip"
    broken.write_bytes(_rewrite(path.read_bytes(), flip))
    done = _run_verify(broken)
    assert done.returncode == 1
    assert done.stdout.startswith("BROKEN entry 4 ")
    assert "content changed" in done.stdout


def test_verify_script_finds_a_removed_entry(export_zip, tmp_path):
    path, entries = export_zip

    def drop(name, content):
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        del manifest["entries"][1]
        manifest["entry_count"] -= 1
        return json.dumps(manifest).encode()

    broken = tmp_path / "gap.zip"
    broken.write_bytes(_rewrite(path.read_bytes(), drop))
    done = _run_verify(broken)
    assert (done.returncode, done.stdout.split(":")[0]) == (
        1,
        f"BROKEN entry 5 ({export_file_name(entries[4])})",
    )
    assert "gap in sequence" in done.stdout


def test_verify_script_finds_a_smuggled_message(export_zip, tmp_path):
    path, _ = export_zip
    data = path.read_bytes()
    out = io.BytesIO()
    with _zip(data) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("eml/0000000099_x.eml", b"Subject: smuggled\r\n\r\n")
    broken = tmp_path / "extra.zip"
    broken.write_bytes(out.getvalue())
    done = _run_verify(broken)
    assert done.returncode == 1
    assert "not in the manifest" in done.stdout


def test_verify_script_rejects_garbage(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    done = _run_verify(junk)
    assert (done.returncode, done.stdout.startswith("BROKEN cannot read")) == (1, True)
    assert _run_verify("").returncode in (1, 2)


def test_the_check_script_travels_in_the_export_and_verifies_it(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(
        build_export(
            _chain(3),
            date(2026, 1, 1),
            date(2026, 12, 31),
            check_script=VERIFY_SCRIPT.read_bytes(),
        )
    )
    with zipfile.ZipFile(path) as archive:
        archive.extract("verify_archive_export.py", tmp_path / "auditor")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "auditor" / "verify_archive_export.py"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout.split()[:2]) == (0, ["OK", "3"])


def test_verify_script_finds_a_changed_index(export_zip, tmp_path):
    path, _ = export_zip

    def edit(name, content):
        return content.replace(b"Bestellung 4", b"Bestellung 9") if name == "index.csv" else content

    broken = tmp_path / "index.zip"
    broken.write_bytes(_rewrite(path.read_bytes(), edit))
    done = _run_verify(broken)
    assert (done.returncode, done.stdout.strip()) == (
        1,
        "BROKEN index.csv changed: SHA-256 does not match the manifest",
    )


def test_write_export_streams_from_a_generator(tmp_path):
    entries = _chain(10)
    loaded = []

    def load():  # as the glue would: one message in memory at a time, in sequence order
        for entry in entries:
            loaded.append(entry.sequence)
            yield entry

    path = tmp_path / "stream.zip"
    with path.open("wb") as out:
        manifest = write_export(out, load(), date(2026, 3, 3), date(2026, 3, 3))
    assert [e["sequence"] for e in manifest["entries"]] == [3, 4, 5, 6]
    assert manifest["entries"][0]["size"] == len(entries[2].raw)
    assert loaded == [1, 2, 3, 4, 5, 6, 7]  # stops at the first entry after the period
    assert path.read_bytes() == build_export(entries, date(2026, 3, 3), date(2026, 3, 3))
    assert _run_verify(path).returncode == 0


def test_an_empty_period_exports_an_empty_but_valid_archive(tmp_path):
    entries = _chain(3)
    path = tmp_path / "empty.zip"
    path.write_bytes(build_export(entries, date(2027, 1, 1), date(2027, 1, 31)))
    manifest = json.loads(_zip(path.read_bytes()).read("manifest.json"))
    assert (manifest["entry_count"], manifest["last_chain_hash"]) == (0, entries[-1].chain_hash)
    assert _run_verify(path).returncode == 0


# --- entries deleted after retention (tombstones) ----------------------------------------

DELETION = arc.Tombstone(date(2037, 1, 5), "Berta Beleg", "Arne Archiv")


def _with_tombstone(entries, index):
    """``entries`` with the content of ``entries[index]`` deleted as the archive does."""
    entries = list(entries)
    entries[index] = dataclasses.replace(entries[index], raw=b"", tombstone=DELETION)
    return entries


def test_a_tombstone_keeps_the_chain_verifiable():
    entries = _with_tombstone(_chain(4), 1)
    assert arc.verify_chain(entries).ok
    stuffed = dataclasses.replace(entries[1], raw=_raw(2))
    result = arc.verify_chain([entries[0], stuffed, *entries[2:]])
    assert (result.ok, result.first_broken_sequence) == (False, 2)
    assert "tombstone with content" in result.reason


def test_a_removed_content_without_tombstone_still_breaks_the_chain():
    entries = _chain(3)
    entries[1] = dataclasses.replace(entries[1], raw=b"")
    assert arc.verify_chain(entries).first_broken_sequence == 2


def test_export_lists_a_tombstone_without_file_with_its_deletion():
    entries = _with_tombstone(_chain(6), 3)
    data = build_export(entries, date(2026, 3, 3), date(2026, 3, 4))
    with _zip(data) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        rows = list(
            csv.reader(io.StringIO(archive.read("index.csv").decode("utf-8-sig")), delimiter=";")
        )
        readme = archive.read("README.txt").decode()
    assert export_file_name(entries[3]) not in names
    assert len([n for n in names if n.startswith("eml/")]) == 3
    item = next(e for e in manifest["entries"] if e["sequence"] == 4)
    assert item["file"] is None
    assert (item["sha256"], item["chain_hash"]) == (entries[3].sha256, entries[3].chain_hash)
    assert item["deleted"] == {
        "deleted_on": "2037-01-05",
        "approved_by": "Berta Beleg",
        "requested_by": "Arne Archiv",
        "note": "deleted on 2037-01-05 approved by Berta Beleg",
    }
    assert (manifest["entry_count"], manifest["deleted_count"]) == (4, 1)
    assert rows[0][-1] == "deleted"
    by_sequence = {row[0]: row for row in rows[1:]}
    assert by_sequence["4"][6:8] == [entries[3].sha256, entries[3].chain_hash]
    assert by_sequence["4"][-2:] == ["", "deleted on 2037-01-05 approved by Berta Beleg"]
    assert by_sequence["5"][-2:] == [export_file_name(entries[4]), ""]
    assert "1 of these messages were deleted" in readme


def test_verify_script_checks_the_chain_through_a_tombstone(tmp_path):
    entries = _with_tombstone(_chain(6), 3)
    path = tmp_path / "deleted.zip"
    path.write_bytes(build_export(entries, date(2026, 3, 3), date(2026, 3, 4)))
    done = _run_verify(path)
    assert done.returncode == 0, done.stdout
    assert done.stdout.split()[:2] == ["OK", "4"]
    assert "1 deleted after retention" in done.stdout

    def rehash(name, content):  # a changed digest of the deleted entry breaks the chain
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        manifest["entries"][1]["sha256"] = hashlib.sha256(b"other").hexdigest()
        return json.dumps(manifest).encode()

    broken = tmp_path / "rehashed.zip"
    broken.write_bytes(_rewrite(path.read_bytes(), rehash))
    done = _run_verify(broken)
    assert (done.returncode, done.stdout.split(":")[0]) == (1, "BROKEN entry 4 (deleted)")
    assert "chain hash mismatch" in done.stdout


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"deleted": {"deleted_on": "2037-01-05"}}, id="no-approver"),
        pytest.param({"file": "eml/x.eml"}, id="file-listed"),
    ],
)
def test_verify_script_refuses_an_incomplete_tombstone(tmp_path, change):
    entries = _with_tombstone(_chain(6), 3)
    path = tmp_path / "deleted.zip"
    path.write_bytes(build_export(entries, date(2026, 3, 3), date(2026, 3, 4)))

    def edit(name, content):
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        manifest["entries"][1].update(change)
        return json.dumps(manifest).encode()

    broken = tmp_path / "broken.zip"
    broken.write_bytes(_rewrite(path.read_bytes(), edit))
    done = _run_verify(broken)
    assert done.returncode == 1
    assert done.stdout.startswith("BROKEN entry 4 ")


def test_verify_script_refuses_a_hidden_file_of_a_deleted_entry(tmp_path):
    entries = _with_tombstone(_chain(6), 3)
    data = build_export(entries, date(2026, 3, 3), date(2026, 3, 4))
    out = io.BytesIO()
    with _zip(data) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(export_file_name(entries[3]), _raw(4))
    path = tmp_path / "hidden.zip"
    path.write_bytes(out.getvalue())
    done = _run_verify(path)
    assert done.returncode == 1
    assert "not in the manifest" in done.stdout
