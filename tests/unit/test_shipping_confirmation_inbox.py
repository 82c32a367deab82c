"""poll_confirmations: the order of store and move, with an in-memory folder.

(The same flow runs against real FTP/SFTP servers in tests/integration.)
"""

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shipping_exchange.adapters.confirmation_inbox import poll_confirmations
from shopaddons.shipping_exchange.services.confirmation import parse_confirmation_file

GOOD = b"<Confirmations><Confirmation reference='R1'/></Confirmations>"


class MemoryFolder:
    def __init__(self, files, fail_download=()):
        self.files = dict(files)
        self.moved: dict[str, str] = {}
        self.events: list[tuple[str, str]] = []
        self.fail_download = set(fail_download)

    def list_files(self):
        return sorted(self.files)

    def download(self, name):
        if name in self.fail_download:
            raise TransientError("connection reset")
        if name not in self.files or self.files[name] is None:
            raise PermanentError(f"download {name}: 550 not a plain file")
        return self.files[name]

    def move(self, name, folder):
        self.events.append(("move", name))
        self.moved[name] = folder
        del self.files[name]
        return f"{folder}/{name}"


def test_store_happens_before_the_move():
    folder = MemoryFolder({"a.xml": GOOD, "b.xml": b"<broken"})
    outcomes = poll_confirmations(
        folder, parse_confirmation_file, lambda o: folder.events.append(("store", o.name))
    )
    assert folder.events == [
        ("store", "a.xml"),
        ("move", "a.xml"),
        ("store", "b.xml"),
        ("move", "b.xml"),
    ]
    assert folder.moved == {"a.xml": "done", "b.xml": "error"}
    assert outcomes[0].content == GOOD and outcomes[0].batch.confirmations[0].reference == "R1"
    assert outcomes[1].batch is None and "not well-formed" in outcomes[1].error


def test_an_unsafe_name_is_reported_but_never_touched():
    folder = MemoryFolder({"../x.xml": GOOD, "ok.xml": GOOD})
    outcomes = poll_confirmations(folder, parse_confirmation_file, lambda o: None)
    assert [(o.name, o.moved_to) for o in outcomes] == [("../x.xml", ""), ("ok.xml", "done")]
    assert "unsafe" in outcomes[0].error
    assert list(folder.files) == ["../x.xml"]


def test_a_transient_error_ends_the_run_leaving_the_rest_in_place():
    folder = MemoryFolder({"a.xml": GOOD, "b.xml": GOOD, "c.xml": GOOD}, fail_download={"b.xml"})
    stored = []
    with pytest.raises(TransientError):
        poll_confirmations(folder, parse_confirmation_file, stored.append)
    assert [o.name for o in stored] == ["a.xml"]
    assert sorted(folder.files) == ["b.xml", "c.xml"]


def test_a_failing_store_moves_nothing():
    folder = MemoryFolder({"a.xml": GOOD})

    def store(outcome):
        raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        poll_confirmations(folder, parse_confirmation_file, store)
    assert folder.moved == {}


def test_a_file_the_server_refuses_is_reported_left_and_the_rest_processed():
    folder = MemoryFolder({"a.xml": None, "b.xml": GOOD})
    stored = []
    outcomes = poll_confirmations(folder, parse_confirmation_file, stored.append)
    assert [(o.name, o.moved_to) for o in outcomes] == [("a.xml", ""), ("b.xml", "done")]
    assert "550" in outcomes[0].error
    assert stored == outcomes
    assert list(folder.files) == ["a.xml"]
