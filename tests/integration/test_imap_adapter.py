"""ImapAdapter against a real dovecot (fixture ``imap_server``), no protocol mocks."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from shopaddons.mail_crm_shop.adapters.imap import (
    FetchedMessage,
    FolderState,
    ImapAdapter,
    ImapAuthError,
    ImapSettings,
)
from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.mail_crm_shop.services.mime import parse_message

from ..conftest import DATA_DIR

CORPUS = sorted((DATA_DIR / "mail").glob("*.eml"))


def _settings(server, login="shop", password=None, **overrides) -> ImapSettings:
    values = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "login": login,
        "password": server.users[login] if password is None else password,
        "timeout": 10.0,
    }
    values.update(overrides)
    return ImapSettings(**values)


def _mail(number: int) -> bytes:
    return (
        f"Message-ID: <m{number}@kunde.example>\r\nFrom: kunde{number}@kunde.example\r\n"
        f"To: service@shop.example\r\nSubject: Anfrage {number}\r\n\r\nText {number}\r\n"
    ).encode()


class Store:
    """What the Odoo side keeps: one row per (uidvalidity, uid), a duplicate is a bug."""

    def __init__(self):
        self.rows: dict[tuple[int, int], bytes] = {}

    def add(self, uidvalidity: int, message: FetchedMessage) -> None:
        key = (uidvalidity, message.uid)
        assert key not in self.rows, f"message {key} stored twice"
        self.rows[key] = message.raw

    def last_uid(self, uidvalidity: int) -> int:
        return max((uid for (validity, uid) in self.rows if validity == uidvalidity), default=0)


# -- folders, search, fetch --------------------------------------------------------------


def test_select_reports_uidvalidity_uidnext_and_size(imap_server):
    for number in range(3):
        imap_server.deliver(_mail(number))
    conn = imap_server.client()
    _typ, data = conn.status("INBOX", "(UIDVALIDITY)")
    conn.logout()
    with ImapAdapter(_settings(imap_server)) as imap:
        state = imap.select("INBOX")
    assert isinstance(state, FolderState)
    assert (state.name, state.uidnext, state.exists) == ("INBOX", 4, 3)
    assert f"UIDVALIDITY {state.uidvalidity}".encode() in data[0]


def test_search_uids_returns_uids_from_min_uid_on(imap_server):
    uids = [imap_server.deliver(_mail(number)) for number in range(5)]
    assert uids == [1, 2, 3, 4, 5]
    with ImapAdapter(_settings(imap_server)) as imap:
        assert imap.search_uids("INBOX", 1) == uids
        assert imap.search_uids("INBOX", 0) == uids
        assert imap.search_uids("INBOX", 4) == [4, 5]
        assert imap.search_uids("INBOX", 5) == [5]
        # "UID SEARCH UID 6:*" matches message 5 (the last one): it must not come back
        assert imap.search_uids("INBOX", 6) == []
        assert imap.search_uids("INBOX", 1000) == []


def test_search_in_an_empty_folder(imap_server):
    with ImapAdapter(_settings(imap_server)) as imap:
        assert imap.select("INBOX").exists == 0
        assert imap.search_uids("INBOX", 1) == []
        assert list(imap.fetch("INBOX", [])) == []


def test_batched_fetch_returns_the_corpus_byte_for_byte(imap_server):
    delivered = {imap_server.deliver(path.read_bytes()): path.read_bytes() for path in CORPUS}
    with ImapAdapter(_settings(imap_server)) as imap:
        uids = imap.search_uids("INBOX", 1)
        messages = list(imap.fetch("INBOX", reversed(uids), batch_size=4))
    assert [m.uid for m in messages] == sorted(delivered)  # ascending, each once
    for message in messages:
        assert message.raw == delivered[message.uid]
        assert message.internal_date is not None and message.internal_date.tzinfo is not None
        assert "\\Seen" not in message.flags
        parse_message(message.raw)  # what the sync does next


def test_fetch_skips_uids_the_server_does_not_have(imap_server):
    for number in range(3):
        imap_server.deliver(_mail(number))
    with ImapAdapter(_settings(imap_server)) as imap:
        fetched = [m.uid for m in imap.fetch("INBOX", [3, 99, 1, 3], batch_size=2)]
    assert fetched == [1, 3]


def test_fetch_does_not_set_seen_but_set_seen_does(imap_server):
    first = imap_server.deliver(_mail(1))
    second = imap_server.deliver(_mail(2))
    with ImapAdapter(_settings(imap_server)) as imap:
        assert len(list(imap.fetch("INBOX", [first, second]))) == 2
        assert "\\Seen" not in imap_server.flags(first)
        assert "\\Seen" not in imap_server.flags(second)

        imap.set_seen("INBOX", [first], True)
        assert "\\Seen" in imap_server.flags(first)
        assert "\\Seen" not in imap_server.flags(second)

        imap.set_seen("INBOX", [first], False)
        assert "\\Seen" not in imap_server.flags(first)
        imap.set_seen("INBOX", [], True)  # nothing to do, no error


def test_flags_come_back_with_the_message(imap_server):
    uid = imap_server.deliver(_mail(1), flags="\\Flagged \\Seen")
    with ImapAdapter(_settings(imap_server)) as imap:
        (message,) = imap.fetch("INBOX", [uid])
    assert {"\\Flagged", "\\Seen"} <= set(message.flags)


def test_append_creates_the_sent_folder_and_stores_the_message(imap_server):
    raw = (DATA_DIR / "mail" / "04_alternative_gmail.eml").read_bytes()
    with ImapAdapter(_settings(imap_server)) as imap:
        uid = imap.append("Sent", raw)
        second = imap.append("Sent", _mail(2), seen=False)  # the folder exists now
        state = imap.select("Sent")
        messages = list(imap.fetch("Sent", imap.search_uids("Sent", 1)))
    assert (uid, second) == (1, 2)
    assert state.exists == 2
    assert [m.raw for m in messages] == [raw, _mail(2)]
    assert "\\Seen" in messages[0].flags
    assert "\\Seen" not in messages[1].flags
    conn = imap_server.client()
    _typ, listing = conn.lsub()
    conn.logout()
    assert any(b"Sent" in line for line in listing)  # subscribed: mail clients show it


def test_append_refuses_an_empty_message(imap_server):
    with ImapAdapter(_settings(imap_server)) as imap, pytest.raises(PermanentError):
        imap.append("Sent", b"")


# -- failures ------------------------------------------------------------------------------


def test_server_killed_between_batches_then_resume_stores_every_mail_once(imap_server):
    delivered = {imap_server.deliver(_mail(number)): _mail(number) for number in range(10)}
    store = Store()

    with ImapAdapter(_settings(imap_server)) as imap:
        validity = imap.select("INBOX").uidvalidity
        uids = imap.search_uids("INBOX", store.last_uid(validity) + 1)
        messages = imap.fetch("INBOX", uids, batch_size=3)
        with pytest.raises(TransientError, match="connection failed or lost"):
            for message in messages:
                store.add(validity, message)
                if len(store.rows) == 3:  # first batch done: the server goes away
                    imap_server.kill()
    assert len(store.rows) == 3

    imap_server.start()
    with ImapAdapter(_settings(imap_server)) as imap:
        state = imap.select("INBOX")
        assert state.uidvalidity == validity
        for message in imap.fetch("INBOX", imap.search_uids("INBOX", store.last_uid(validity) + 1)):
            store.add(validity, message)
    assert store.rows == {(validity, uid): raw for uid, raw in delivered.items()}


def test_using_a_dropped_connection_again_is_transient(imap_server):
    imap_server.deliver(_mail(1))
    imap = ImapAdapter(_settings(imap_server))
    imap.connect()
    imap.select("INBOX")
    imap_server.kill()
    with pytest.raises(TransientError):
        imap.search_uids("INBOX", 1)
    with pytest.raises(TransientError):
        imap.select("INBOX")  # the adapter knows it is closed now
    imap.close()  # closing a dead adapter is fine


def test_changed_uidvalidity_is_detectable(imap_server):
    for number in range(2):
        imap_server.deliver(_mail(number))
    with ImapAdapter(_settings(imap_server)) as imap:
        before = imap.select("INBOX")
    imap_server.stop()
    new_validity = imap_server.change_uidvalidity()
    imap_server.start()
    with ImapAdapter(_settings(imap_server)) as imap:
        after = imap.select("INBOX")
        raws = [m.raw for m in imap.fetch("INBOX", imap.search_uids("INBOX", 1))]
    assert after.uidvalidity == new_validity != before.uidvalidity
    assert raws == [_mail(0), _mail(1)]  # the mails are still there, under new UIDs


@pytest.mark.parametrize(("login", "password"), [("shop", "wrong"), ("nobody", "secret")])
def test_refused_login_is_an_auth_error(imap_server, login, password):
    settings = ImapSettings(imap_server.host, imap_server.port, "none", login, password, 10)
    with pytest.raises(ImapAuthError, match="login refused") as caught:
        ImapAdapter(settings).connect()
    assert isinstance(caught.value, PermanentError)


def test_non_ascii_password_logs_in(imap_server):
    imap_server.deliver(_mail(1), user="support")
    with ImapAdapter(_settings(imap_server, login="support")) as imap:
        assert imap.select("INBOX").exists == 1


def test_password_is_not_in_the_settings_repr():
    assert "secret" not in repr(ImapSettings("h", 993, "ssl", "shop", "secret"))


def test_missing_folder_is_permanent(imap_server):
    with ImapAdapter(_settings(imap_server)) as imap:
        with pytest.raises(PermanentError, match="does not exist") as caught:
            imap.select("Archiv/Gibt es nicht")
        assert not isinstance(caught.value, ImapAuthError)
        with pytest.raises(PermanentError):
            imap.search_uids("Nope", 1)
        assert imap.select("INBOX").exists == 0  # the connection is still usable


def test_starttls_on_a_server_without_it_is_permanent(imap_server):
    with pytest.raises(PermanentError, match="STARTTLS"):
        ImapAdapter(_settings(imap_server, security="starttls")).connect()


def test_closed_port_is_transient():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ImapSettings("127.0.0.1", port, "none", "shop", "secret", timeout=2)
    with pytest.raises(TransientError):
        ImapAdapter(settings).connect()


def test_silent_server_times_out_as_transient():
    """A server that accepts but never greets: the timeout must end the wait."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        settings = ImapSettings(
            "127.0.0.1", listener.getsockname()[1], "none", "shop", "secret", timeout=0.5
        )
        outcome: list[BaseException] = []

        def connect():
            try:
                ImapAdapter(settings).connect()
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome.append(exc)

        worker = threading.Thread(target=connect)
        worker.start()
        worker.join(30)  # liveness only: without a timeout the connect would hang forever
        assert not worker.is_alive(), "connect() ignored its timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], TransientError), outcome


@pytest.mark.parametrize(
    "overrides",
    [{"security": "tls"}, {"port": 0}, {"port": "imap"}, {"host": ""}, {"timeout": 0}],
)
def test_invalid_settings_are_permanent(overrides):
    values = {"host": "h", "port": 993, "security": "ssl", "login": "l", "password": "p"}
    values.update(overrides)
    with pytest.raises(PermanentError):
        ImapSettings(**values)


# -- IDLE ------------------------------------------------------------------------------------


def test_idle_returns_true_when_a_mail_arrives(imap_server):
    with ImapAdapter(_settings(imap_server)) as imap:
        imap.select("INBOX")

        def deliver_later():
            time.sleep(0.5)
            imap_server.deliver(_mail(1))

        sender = threading.Thread(target=deliver_later)
        sender.start()
        try:
            arrived = imap.idle_wait("INBOX", timeout=20)
        finally:
            sender.join(30)
        assert arrived is True
        assert imap.search_uids("INBOX", 1) == [1]  # the connection works after IDLE


def test_idle_returns_false_when_nothing_arrives(imap_server):
    with ImapAdapter(_settings(imap_server)) as imap:
        assert imap.idle_wait("INBOX", timeout=0.5) is False
        assert imap.select("INBOX").exists == 0


def test_server_going_away_during_idle_is_transient(imap_server):
    with ImapAdapter(_settings(imap_server)) as imap:
        imap.select("INBOX")
        stopper = threading.Timer(0.5, imap_server.kill)
        stopper.start()
        try:
            with pytest.raises(TransientError):
                imap.idle_wait("INBOX", timeout=20)
        finally:
            stopper.join(30)
