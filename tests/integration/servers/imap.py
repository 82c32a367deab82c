"""Fixture ``imap_server``: Debian's dovecot on 127.0.0.1 with a free port.

Each test gets its own dovecot (``dovecot -F -c <config>``, no systemd) with its own
configuration, run/state directories and maildir storage, so tests never share data:

* plain-text ``LOGIN``/``AUTHENTICATE PLAIN`` without TLS (``ssl = no``,
  ``disable_plaintext_auth = no``: dovecot 2.3 spellings);
* a passwd-file passdb with the users in :data:`IMAP_USERS`; every mailbox belongs to the
  ``dovecot`` system user (dovecot refuses uid 0 for mail processes and root for the
  login processes);
* ``stop()`` / ``start()`` kill the server (clients get disconnected) and bring it back on
  the same port with the same data, ``change_uidvalidity()`` makes a folder look
  recreated to clients, ``deliver()`` APPENDs a raw message the way an MTA would.

dovecot's unix sockets must fit in 108 bytes, so the server lives in a short
``/tmp/dovecot-*`` directory (removed afterwards) rather than in ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["imap_server"]

DOVECOT = "/usr/sbin/dovecot"
IMAP_USERS = {"shop": "secret", "support": "s3cr3t-äöü"}

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = root
default_internal_group = root
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _children(pid: int) -> list[int]:
    """The pids of the direct children of ``pid`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DovecotServer:
    """A running (or stopped) dovecot; see the module docstring."""

    root: Path
    port: int
    host: str = "127.0.0.1"
    users: dict[str, str] = field(default_factory=lambda: dict(IMAP_USERS))
    process: subprocess.Popen | None = None

    @property
    def log(self) -> str:
        """dovecot's own log, handy in assertion messages."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def setup(self) -> None:
        """Write the configuration, the users and the (empty) mail storage."""
        mail_user = pwd.getpwnam("dovecot")
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        users = "".join(f"{name}:{{PLAIN}}{pw}::::::\n" for name, pw in self.users.items())
        (self.root / "users").write_text(users, encoding="utf-8")
        (self.root / "dovecot.conf").write_text(
            _CONFIG.format(
                root=self.root, port=self.port, uid=mail_user.pw_uid, gid=mail_user.pw_gid
            )
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start dovecot in the foreground and wait until it greets on its port."""
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"dovecot exited at start:\n{self.log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    sock.settimeout(2)
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot did not come up on port {self.port}:\n{self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Shut dovecot down and drop every client connection, like a crashed server.

        dovecot's master leaves running ``imap`` sessions alive when it stops, so its
        child processes are killed too (only those: found through their parent pid).
        """
        if self.process is None:
            return
        children = _children(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # the master has gone; wait until the port is really closed for new clients
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)

    kill = stop

    def client(self, user: str = "shop") -> imaplib.IMAP4:
        """A logged-in imaplib client (independent from the adapter under test)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn._encoding = "utf-8"  # passwords with umlauts
        conn.login(user, self.users[user])
        return conn

    def deliver(
        self, raw: bytes, user: str = "shop", folder: str = "INBOX", flags: str = ""
    ) -> int:
        """APPEND ``raw`` to ``folder`` of ``user`` (created if missing); return its UID."""
        conn = self.client(user)
        try:
            if folder.upper() != "INBOX":
                conn.create(folder)  # "already exists" is fine
            flag_arg = f"({flags})" if flags else None
            typ, data = conn.append(folder, flag_arg, None, raw)
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0])
            assert match, data
            return int(match.group(1))
        finally:
            conn.logout()

    def flags(self, uid: int, user: str = "shop", folder: str = "INBOX") -> tuple[str, ...]:
        """The flags of message ``uid`` as the server stores them."""
        conn = self.client(user)
        try:
            conn.select(folder, readonly=True)
            typ, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            assert typ == "OK" and data[0], data
            match = re.search(rb"FLAGS \(([^)]*)\)", data[0])
            return tuple(match.group(1).decode().split())
        finally:
            conn.logout()

    def _maildir(self, user: str, folder: str) -> Path:
        base = self.root / "mail" / user
        return base if folder.upper() == "INBOX" else base / f".{folder}"

    def change_uidvalidity(self, user: str = "shop", folder: str = "INBOX") -> int:
        """Give ``folder`` a new UIDVALIDITY (as if recreated); return the new value.

        Works on a stopped server: rewrites the ``V`` field of ``dovecot-uidlist`` and
        removes dovecot's index files so they are rebuilt from it.
        """
        assert self.process is None, "stop() the server first"
        maildir = self._maildir(user, folder)
        uidlist = maildir / "dovecot-uidlist"
        header, _, rest = uidlist.read_text().partition("\n")
        old = int(re.search(r"\bV(\d+)", header).group(1))
        new = old + 1000
        uidlist.write_text(re.sub(r"\bV\d+", f"V{new}", header, count=1) + "\n" + rest)
        for path in (self.root / "mail" / user).rglob("dovecot*.index*"):
            path.unlink()
        return new


@pytest.fixture
def imap_server():
    """A fresh dovecot for one test; yields a :class:`DovecotServer`."""
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    root.chmod(0o755)
    server = DovecotServer(root=root, port=_free_port())
    try:
        server.setup()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
