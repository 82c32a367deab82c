"""IMAP client of the team inbox (imapclient), pure I/O behind a small class.

Usage::

    with ImapAdapter(settings) as imap:
        state = imap.select("INBOX")
        for message in imap.fetch("INBOX", imap.search_uids("INBOX", last_uid + 1)):
            store(state.uidvalidity, message)  # commit first ...
        imap.set_seen("INBOX", stored_uids, True)  # ... acknowledge afterwards

Errors are converted at this boundary:

* a dropped connection, a timeout, a refused connection, a busy server → ``TransientError``
  (the connection is then unusable: open a new adapter to retry);
* login refused → :class:`ImapAuthError` (a ``PermanentError``: a person must fix the
  credentials); a missing folder or a refused operation → ``PermanentError``.

TLS (``ssl`` and ``starttls``) always verifies the server certificate and its host name:
against the system's trusted CAs, or only against ``settings.cafile`` when it is set (a
self-hosted server with its own CA). A certificate that does not verify, or a server that
does not offer STARTTLS when asked to, is a ``PermanentError``; the adapter never falls
back to plain text.

Every socket operation has ``settings.timeout`` (connect, greeting, each command); only
:meth:`ImapAdapter.idle_wait` waits longer, for the time it is asked to.
Fetching uses ``BODY.PEEK[]``: reading a mail never flags it ``\\Seen``.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from ..services.errors import BackendError, PermanentError, TransientError

SECURITY_MODES = ("ssl", "starttls", "none")
SEEN = b"\\Seen"
STORE_BATCH = 500

# RFC 5530 response codes that say "try again later" / "this will never work"
_TRANSIENT_CODES = ("UNAVAILABLE", "INUSE", "LIMIT", "SERVERBUG", "EXPUNGEISSUED", "CONTACTADMIN")
_MISSING_CODES = ("NONEXISTENT", "TRYCREATE")


class ImapAuthError(PermanentError):
    """The server refused the login (wrong credentials, plain text login disabled...)."""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """Where and how to log in; ``security`` is ``"ssl"``, ``"starttls"`` or ``"none"``.

    ``cafile`` is the path of a PEM file with the CA certificate(s) to trust *instead of*
    the system store (for a server with a self-signed or private-CA certificate); it is
    not used with ``security="none"``.
    """

    host: str
    port: int
    security: str
    login: str
    password: str = field(repr=False)
    timeout: float = 30.0
    cafile: str | None = None

    def __post_init__(self):
        if self.security not in SECURITY_MODES:
            raise PermanentError(
                f"IMAP security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}"
            )
        try:
            port = int(self.port)
        except (TypeError, ValueError):
            port = 0
        if not self.host or not 0 < port < 65536:
            raise PermanentError(f"invalid IMAP server {self.host!r}:{self.port!r}")
        if self.timeout <= 0:
            raise PermanentError("IMAP timeout must be positive")


@dataclass(frozen=True, slots=True)
class FolderState:
    """A folder as seen when selecting it."""

    name: str
    uidvalidity: int
    uidnext: int
    exists: int


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One message exactly as the server stores it (``raw`` is byte-identical)."""

    uid: int
    raw: bytes
    flags: tuple[str, ...]
    internal_date: datetime | None


def _response_code(exc: BaseException) -> str:
    match = re.search(r"\[([A-Z-]+)", str(exc))
    return match.group(1) if match else ""


class ImapAdapter:
    """One logged-in IMAP connection; use it as a context manager."""

    def __init__(self, settings: ImapSettings):
        self.settings = settings
        self._client: IMAPClient | None = None
        self._selected: str | None = None

    # -- connection ------------------------------------------------------------------

    def __enter__(self) -> ImapAdapter:
        self.connect()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection (TLS as configured) and log in."""
        s = self.settings
        timeout = SocketTimeout(connect=s.timeout, read=s.timeout)
        try:
            with self._errors(f"connect to {s.host}:{s.port}"):
                context = self._tls_context() if s.security != "none" else None
                client = IMAPClient(
                    s.host,
                    port=s.port,
                    ssl=s.security == "ssl",
                    ssl_context=context,
                    timeout=timeout,
                )
                self._client = client
                client.normalise_times = False  # keep the server's UTC offset: aware dates
                if s.security == "starttls":
                    client.starttls(context)
                self._login(client)
        except BackendError:
            self._drop()  # never leave a half-open connection behind
            raise

    def _tls_context(self) -> ssl.SSLContext:
        """A verifying TLS context (certificate chain and host name)."""
        cafile = self.settings.cafile or None
        try:
            return ssl.create_default_context(cafile=cafile)
        except OSError as exc:  # missing/unreadable file, or no certificate in it (SSLError)
            raise PermanentError(f"IMAP CA file {cafile!r} cannot be used: {exc}") from exc

    def _login(self, client: IMAPClient) -> None:
        s = self.settings
        try:
            if (s.login + s.password).isascii():
                client.login(s.login, s.password)
            else:  # LOGIN only carries ASCII; AUTHENTICATE PLAIN carries UTF-8
                client.plain_login(s.login, s.password)
        except LoginError as exc:
            cause = exc.__context__
            if isinstance(cause, (IMAPClientAbortError, OSError)):
                raise TransientError(f"IMAP connection lost during login: {cause}") from exc
            if _response_code(exc) in _TRANSIENT_CODES:
                raise TransientError(f"IMAP login temporarily refused: {exc}") from exc
            raise ImapAuthError(f"IMAP login refused for {s.login!r}: {exc}") from exc

    def close(self) -> None:
        """Log out; a connection that is already gone is closed silently."""
        client, self._client, self._selected = self._client, None, None
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            # the socket is already closed: nothing left to release
            with suppress(IMAPClientError, OSError):
                client.shutdown()

    @property
    def _imap(self) -> IMAPClient:
        if self._client is None:
            raise TransientError("IMAP connection is closed; open a new adapter")
        return self._client

    @contextmanager
    def _errors(self, action: str):
        """Turn library and socket errors into our error kinds."""
        try:
            yield
        except BackendError:
            raise
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise PermanentError(f"IMAP {action}: server certificate rejected: {exc}") from exc
        except ssl.SSLError as exc:
            self._drop()
            if exc.reason == "WRONG_VERSION_NUMBER":  # the answer was not TLS at all
                raise PermanentError(
                    f"IMAP {action}: the server does not speak TLS on this port (implicit"
                    f" TLS is usually port 993; port 143 needs STARTTLS): {exc}"
                ) from exc
            raise TransientError(f"IMAP {action}: TLS connection failed or lost: {exc}") from exc
        except (IMAPClientAbortError, OSError, EOFError) as exc:
            self._drop()
            raise TransientError(f"IMAP {action}: connection failed or lost: {exc}") from exc
        except CapabilityError as exc:
            raise PermanentError(f"IMAP {action}: server lacks a capability: {exc}") from exc
        except IMAPClientError as exc:
            code = _response_code(exc)
            if code in _MISSING_CODES:
                raise PermanentError(f"IMAP {action}: folder does not exist: {exc}") from exc
            if code in _TRANSIENT_CODES or not code:
                raise TransientError(f"IMAP {action} failed: {exc}") from exc
            raise PermanentError(f"IMAP {action} refused: {exc}") from exc

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            with suppress(IMAPClientError, OSError):  # already broken: that is why we drop it
                client.shutdown()

    # -- folders -----------------------------------------------------------------------

    def select(self, folder: str) -> FolderState:
        """Select ``folder`` (read-write) and return its UIDVALIDITY, UIDNEXT and size."""
        with self._errors(f"select {folder!r}"):
            client = self._imap
            self._selected = None
            try:
                info = client.select_folder(folder)
            except IMAPClientError as exc:
                if isinstance(exc, IMAPClientAbortError) or client.folder_exists(folder):
                    raise
                raise PermanentError(f"IMAP folder {folder!r} does not exist") from exc
            self._selected = folder
            if b"UIDVALIDITY" not in info:
                raise PermanentError(f"IMAP server sent no UIDVALIDITY for {folder!r}")
            uidnext = info.get(b"UIDNEXT")
            if uidnext is None:  # optional in RFC 3501 SELECT: ask explicitly
                uidnext = client.folder_status(folder, [b"UIDNEXT"])[b"UIDNEXT"]
            return FolderState(
                name=folder,
                uidvalidity=int(info[b"UIDVALIDITY"]),
                uidnext=int(uidnext),
                exists=int(info.get(b"EXISTS", 0)),
            )

    def _ensure_selected(self, folder: str) -> None:
        if self._selected != folder:
            self.select(folder)

    def search_uids(self, folder: str, min_uid: int) -> list[int]:
        """Return the UIDs >= ``min_uid`` in ``folder``, ascending.

        ``UID SEARCH UID n:*`` always matches the newest message, even when its UID is
        below ``n``: such UIDs are filtered out here.
        """
        min_uid = max(int(min_uid), 1)
        self._ensure_selected(folder)
        with self._errors(f"search {folder!r}"):
            uids = self._imap.search(["UID", f"{min_uid}:*"])
        return sorted(uid for uid in set(uids) if uid >= min_uid)

    def fetch(
        self, folder: str, uids: Iterable[int], batch_size: int = 200
    ) -> Iterator[FetchedMessage]:
        """Yield the messages ``uids`` of ``folder`` in ascending UID order.

        Fetches ``batch_size`` messages per ``UID FETCH`` with ``BODY.PEEK[]`` (no
        ``\\Seen`` flag is set). A UID that no longer exists (expunged meanwhile) is
        skipped. The connection may fail between two batches: the error is raised when
        the next batch is due, after every message of the previous ones was yielded.
        """
        if batch_size < 1:
            raise PermanentError("batch_size must be at least 1")
        wanted = sorted({int(uid) for uid in uids})
        if not wanted:
            return
        self._ensure_selected(folder)
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            with self._errors(f"fetch from {folder!r}"):
                response = self._imap.fetch(batch, [b"BODY.PEEK[]", b"FLAGS", b"INTERNALDATE"])
            for uid in batch:
                data = response.get(uid)
                if data is None or b"BODY[]" not in data:
                    continue  # expunged since the search
                body = data[b"BODY[]"]
                yield FetchedMessage(
                    uid=uid,
                    raw=bytes(body) if body is not None else b"",
                    flags=tuple(_text(flag) for flag in data.get(b"FLAGS", ())),
                    internal_date=_utc(data.get(b"INTERNALDATE")),
                )

    def set_seen(self, folder: str, uids: Iterable[int], seen: bool) -> None:
        """Add (``seen=True``) or remove the ``\\Seen`` flag on ``uids`` of ``folder``."""
        wanted = sorted({int(uid) for uid in uids})
        if not wanted:
            return
        self._ensure_selected(folder)
        with self._errors(f"flag messages in {folder!r}"):
            store = self._imap.add_flags if seen else self._imap.remove_flags
            for start in range(0, len(wanted), STORE_BATCH):
                store(wanted[start : start + STORE_BATCH], [SEEN], silent=True)

    def append(self, folder: str, raw: bytes, seen: bool = True) -> int | None:
        """Store ``raw`` in ``folder`` (created and subscribed if missing).

        Returns the new message's UID when the server reports it (UIDPLUS), else None.
        """
        if not raw:
            raise PermanentError("refusing to append an empty message")
        with self._errors(f"append to {folder!r}"):
            client = self._imap
            if not client.folder_exists(folder):
                client.create_folder(folder)
                with suppress(IMAPClientError):  # cosmetic for mail clients: folder exists
                    client.subscribe_folder(folder)
            response = client.append(folder, raw, flags=(SEEN,) if seen else ())
        match = re.search(rb"APPENDUID \d+ (\d+)", response or b"")
        return int(match.group(1)) if match else None

    def idle_wait(self, folder: str, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds in IDLE on ``folder``; True if a mail arrived.

        Returns False at once when the server does not support IDLE (the caller then
        polls). Servers end IDLE after ~30 minutes: keep ``timeout`` well below that.
        """
        self._ensure_selected(folder)
        with self._errors(f"idle on {folder!r}"):
            client = self._imap
            if not client.has_capability("IDLE"):
                return False
            client.idle()
            try:
                responses = _idle_until_new_mail(client, timeout)
            finally:
                _text_done, more = client.idle_done()
        return any(_is_new_mail(resp) for resp in [*responses, *more])


# wake-ups in a row with nothing to read: the connection is gone (EOF), stop waiting
_EMPTY_WAKEUPS = 3


def _idle_until_new_mail(client, timeout: float) -> list:
    """The IDLE responses until one tells of a new mail or ``timeout`` seconds pass.

    A wake-up without one goes on waiting: another untagged response (flags, a
    keep-alive) or a TLS record that carries no IMAP data (a TLS 1.3 session ticket
    arriving late) makes the socket readable too.
    """
    deadline = time.monotonic() + timeout
    responses, empty = [], 0
    while (left := deadline - time.monotonic()) > 0:
        got = client.idle_check(timeout=left)
        responses.extend(got)
        if any(_is_new_mail(resp) for resp in got):
            break
        empty = 0 if got else empty + 1
        if empty >= _EMPTY_WAKEUPS:
            break
    return responses


def _is_new_mail(response) -> bool:
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and isinstance(response[0], int)
        and response[1] in (b"EXISTS", b"RECENT")
        and response[0] > 0
    )


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _utc(value) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # servers always send an offset; be safe anyway
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
