"""E-mail transport: a delivery file sent as an attachment over SMTP.

``security``: ``"starttls"`` (port 587, default), ``"ssl"`` (implicit TLS, port 465) or
``"none"`` (a local relay only). Status mapping: a recipient or message refused with a
5xx code, failed login or TLS verification are :class:`PermanentError`; 4xx, dropped
connections and timeouts are :class:`TransientError`. SMTP cannot take a message back:
if some recipients accept and others refuse, the message *was* sent and
:class:`PartialDelivery` (permanent: a person decides) names the refused ones.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ..services.confirmation import safe_file_name

MIME_TYPES = {
    "xml": ("application", "xml"),
    "pdf": ("application", "pdf"),
    "csv": ("text", "csv"),
    "json": ("application", "json"),
}


class PartialDelivery(PermanentError):
    """Accepted by some recipients, refused by others (never resend automatically)."""

    def __init__(self, message: str, refused: dict):
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True, slots=True)
class EmailSettings:
    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    verify_tls: bool = True
    message_id_domain: str = ""  # default: the sender's domain


@dataclass(frozen=True, slots=True)
class Attachment:
    file_name: str
    content: bytes


def _code_error(code: int, text: str) -> Exception:
    return TransientError(text) if 400 <= code < 500 else PermanentError(text)


def _decode(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _open_error(action: str, exc: Exception) -> Exception:
    """Our error for a failed connection, TLS handshake or login."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentError(f"{action}: {exc}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return PermanentError(f"{action}: login refused: {_decode(exc.smtp_error)}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentError(f"{action}: TLS certificate: {exc}")
    return _smtp_error(action, exc)


def _send_error(action: str, exc: Exception) -> Exception:
    """Our error for a message the server did not take (refused by all recipients, or
    the sender or the data refused)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        error = TransientError if all(400 <= c < 500 for c in codes) else PermanentError
        return error(f"{action}: recipients refused: {_refusals(exc.recipients)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _code_error(exc.smtp_code, f"{action}: sender refused: {exc}")
    return _smtp_error(action, exc)


def _smtp_error(action: str, exc: Exception) -> Exception:
    """A reply with a code: by its code (4xx transient); no reply (connection lost,
    timeout): transient."""
    if isinstance(exc, smtplib.SMTPResponseException):  # SMTPDataError and others
        return _code_error(exc.smtp_code, f"{action}: {exc.smtp_code} {_decode(exc.smtp_error)}")
    return TransientError(f"{action}: {exc.__class__.__name__}: {exc}")


def _refusals(refused: dict) -> str:
    return "; ".join(f"{r}: {c} {_decode(m)}" for r, (c, m) in refused.items())


def build_message(
    settings: EmailSettings, subject: str, body: str, attachments: tuple[Attachment, ...]
) -> EmailMessage:
    """The MIME message (a fresh Message-ID; the caller may store it for tracing)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.message_id_domain or settings.sender.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid("shipping", domain=domain)
    message.set_content(body)
    for attachment in attachments:
        name = safe_file_name(attachment.file_name)
        maintype, subtype = MIME_TYPES.get(
            name.rsplit(".", 1)[-1].lower(), ("application", "octet-stream")
        )
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=name
        )
    return message


class EmailTransport:
    """Sends one message per call over a fresh SMTP connection."""

    def __init__(self, settings: EmailSettings):
        if settings.security not in ("starttls", "ssl", "none"):
            raise PermanentError(f"SMTP security {settings.security!r} unknown")
        if not settings.recipients:
            raise PermanentError("SMTP: no recipient configured")
        self.settings = settings

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> str:
        """Send ``message``; return its Message-ID."""
        s = self.settings
        action = f"SMTP {s.host}:{s.port}"
        try:
            smtp = self._open()
        except (smtplib.SMTPException, OSError) as exc:
            raise _open_error(action, exc) from exc
        try:
            refused = smtp.send_message(message, s.sender, list(s.recipients))
        except (smtplib.SMTPException, OSError) as exc:
            raise _send_error(action, exc) from exc
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        if refused:
            raise PartialDelivery(f"{action}: sent, but refused by {_refusals(refused)}", refused)
        return message["Message-ID"]

    def upload(self, name: str, data: bytes, subject: str = "", body: str = "") -> str:
        """Send delivery file ``name`` as the attachment of one message; return Message-ID."""
        message = build_message(
            self.settings,
            subject or f"Delivery order {name}",
            body or f"Please find the delivery order {name} attached.",
            (Attachment(name, data),),
        )
        return self.send(message)
