"""Send one message over SMTP and report what the server said for every recipient.

The adapter runs the SMTP transaction ``SMTP.sendmail`` runs (EHLO, MAIL FROM, one RCPT TO
per recipient, DATA) itself, because ``sendmail`` forgets the refused-recipients dict when
DATA fails afterwards and does not return the DATA reply (the queue id). Outcome per
recipient (:class:`RecipientResult`):

* ``sent``     RCPT and DATA accepted (2xx): handed over to the next MTA.
* ``bounced``  refused with 5xx at RCPT (or the message refused with 5xx at DATA): a hard
  bounce, ``reply`` holds the server's text.
* ``deferred`` refused with 4xx at RCPT or DATA: try again later.

Errors that concern the whole message are raised, converted at this boundary:
connection problems, timeouts, ``421`` and other 4xx replies to the session ->
:class:`TransientError`; refused login, refused sender, TLS not offered or a certificate
that does not verify, bad input -> :class:`PermanentError`. A connection lost after the
message data was sent cannot tell whether the server kept it: that is a TransientError
too (retrying may deliver twice, which is better than losing the message).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from ..services.errors import PermanentError, TransientError

SECURITY = ("none", "starttls", "ssl")
STATES = ("sent", "bounced", "deferred")
_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to connect; ``timeout`` (seconds) applies to every socket operation."""

    host: str
    port: int = 587
    security: str = "starttls"  # one of SECURITY
    login: str = ""
    password: str = ""
    timeout: float = 30.0
    local_hostname: str | None = None
    cafile: str | None = None  # trust only this CA (a self-hosted server); never unverified


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What the server answered for one recipient."""

    recipient: str
    state: str  # one of STATES
    code: int
    reply: str

    @property
    def hard(self) -> bool:
        """True when the recipient was refused permanently (a hard bounce)."""
        return self.state == "bounced"


@dataclass(frozen=True, slots=True)
class SendResult:
    """Per-recipient results of one message, in the order the recipients were given."""

    recipients: tuple[RecipientResult, ...]

    @property
    def all_sent(self) -> bool:
        return all(r.state == "sent" for r in self.recipients)

    def by_state(self, state: str) -> tuple[RecipientResult, ...]:
        return tuple(r for r in self.recipients if r.state == state)


class SmtpAdapter:
    """Send messages through one SMTP server (a new connection per :meth:`send`)."""

    def __init__(self, settings: SmtpSettings):
        if settings.security not in SECURITY:
            raise PermanentError(f"SMTP: unknown security {settings.security!r}")
        if not settings.host or not 0 < settings.port < 65536:
            raise PermanentError("SMTP: a host and a port (1-65535) are required")
        if settings.timeout is None or settings.timeout <= 0:
            raise PermanentError("SMTP: a positive timeout is required")
        self.settings = settings

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> SendResult:
        """Send the raw RFC 822 ``message`` to ``recipients``; return per-recipient results.

        Duplicate recipients (compared case-insensitively) get one RCPT and one result.
        If every recipient is refused no data is sent and every result says why.
        """
        unique = _unique(recipients)
        if not unique:
            raise PermanentError("SMTP: no recipients")
        if not isinstance(message, bytes | bytearray):
            raise PermanentError("SMTP: the message must be bytes")
        data = _EOL.sub(b"\r\n", bytes(message))
        try:
            with self._connect() as client:
                return self._transaction(client, data, envelope_from, unique)
        except (PermanentError, TransientError):
            raise
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, DNS, TLS
            raise self._error(exc) from exc

    # -- internals ------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(
                s.host, s.port, s.local_hostname, timeout=s.timeout, context=self._tls()
            )
        else:
            client = smtplib.SMTP(s.host, s.port, s.local_hostname, timeout=s.timeout)
        try:
            client.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                if not client.has_extn("starttls"):
                    raise PermanentError(f"SMTP: {s.host} does not offer STARTTLS")
                client.starttls(context=self._tls())
                client.ehlo()
            if s.login:
                client.login(s.login, s.password)
        except BaseException:
            client.close()
            raise
        return client

    def _tls(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.settings.cafile)
        except (OSError, ValueError) as exc:  # missing, unreadable or not a certificate
            raise PermanentError(
                f"SMTP: the CA file {self.settings.cafile!r} cannot be used: {exc}"
            ) from exc

    def _error(self, exc: smtplib.SMTPException | OSError) -> TransientError | PermanentError:
        """Our error for a failure of the whole message: the reply code decides if there is
        one (4xx transient, 5xx permanent); a lost or refused connection is transient."""
        host, port = self.settings.host, self.settings.port
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return _reply_error("login refused", exc.smtp_code, exc.smtp_error)
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return _reply_error(f"sender {exc.sender} refused", exc.smtp_code, exc.smtp_error)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return PermanentError(f"SMTP: {exc}")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return TransientError(f"SMTP: connection lost: {exc}")
        if isinstance(exc, smtplib.SMTPResponseException):
            return _reply_error("unexpected reply", exc.smtp_code, exc.smtp_error)
        if isinstance(exc, ssl.SSLError):
            return _tls_error(exc, host, port)
        return TransientError(f"SMTP: {host}:{port}: {exc or type(exc).__name__}")

    def _transaction(self, client, data, envelope_from, recipients) -> SendResult:
        options = []
        if client.does_esmtp and client.has_extn("size"):
            options.append(f"SIZE={len(data)}")
        if not all(a.isascii() for a in (envelope_from, *recipients)):
            if not client.has_extn("smtputf8"):
                raise PermanentError("SMTP: non-ASCII address and the server lacks SMTPUTF8")
            options += ["SMTPUTF8", "BODY=8BITMIME"]
        code, reply = client.mail(envelope_from, options)
        if not 200 <= code < 300:  # 4xx (421 included): transient, 5xx: permanent
            raise _reply_error(f"sender {envelope_from} refused", code, reply)
        answers = {}
        for address in recipients:
            rcpt_code, rcpt_reply = client.rcpt(address)
            if rcpt_code == 421:
                raise TransientError(f"SMTP: server closing: {_text(rcpt_reply)}")
            answers[address] = (rcpt_code, _text(rcpt_reply))
        accepted = [a for a, (c, _) in answers.items() if 200 <= c < 300]
        if accepted:
            try:
                data_code, data_reply = client.data(data)
            except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
                data_code, data_reply = exc.smtp_code, exc.smtp_error
            if data_code == 421:
                raise TransientError(f"SMTP: server closing: {_text(data_reply)}")
            for address in accepted:
                answers[address] = (data_code, _text(data_reply))
        else:
            _rset_quietly(client)
        return SendResult(tuple(_result(a, *answers[a]) for a in recipients))


def _result(address: str, code: int, reply: str) -> RecipientResult:
    if 200 <= code < 300:
        state = "sent"
    elif 400 <= code < 500:
        state = "deferred"
    else:
        state = "bounced"
    return RecipientResult(address, state, code, reply)


def _reply_error(what: str, code: int, reply) -> TransientError | PermanentError:
    kind = TransientError if 400 <= (code or 0) < 500 else PermanentError
    return kind(f"SMTP: {what}: {code} {_text(reply)}")


def _tls_error(exc: ssl.SSLError, host: str, port: int) -> TransientError | PermanentError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentError(f"SMTP: certificate of {host} refused: {exc}")
    if exc.reason == "WRONG_VERSION_NUMBER":  # the answer was not TLS at all
        return PermanentError(
            f"SMTP: {host}:{port} does not speak TLS on"
            f" this port (implicit TLS is usually port 465; 587 needs STARTTLS): {exc}"
        )
    return TransientError(f"SMTP: TLS connection failed or lost: {exc}")


def _text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(str(reply).split())


def _rset_quietly(client: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.rset()  # the transaction carried nothing; QUIT follows anyway


def _unique(recipients: Sequence[str]) -> list[str]:
    seen, unique = set(), []
    for address in recipients or ():
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique
