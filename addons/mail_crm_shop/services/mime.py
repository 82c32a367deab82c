"""Parse an inbound mail (raw RFC 5322 bytes) into what the team inbox stores.

Pure and tolerant: a malformed but readable mail always parses, best effort; only bytes
that are no mail at all raise :class:`ParseError`.

* Structure: stdlib :mod:`email` with ``policy.default``; if that parser or the walk over
  its tree fails on a broken message, the same is done on a ``compat32`` tree.
* Text (headers and bodies) is decoded here rather than by the stdlib, which leaves
  undecodable bytes as lone surrogates (crashing later in the database) and gives up on
  broken encoded words. Charsets: the declared one strictly, UTF-8, Windows-1252, then
  Latin-1 (never fails). A body or encoded word labelled US-ASCII / Latin-1 is tried as
  UTF-8 first: mislabelled UTF-8 is by far the most frequent charset error, and real
  Latin-1 text is almost never valid UTF-8.
* Attachments: every leaf part that is not the body (or is a body part with a file
  name), nested multiparts included; a forwarded ``message/rfc822`` is one ``.eml``
  attachment (its own parts stay inside it). Inline images keep their Content-ID
  (without angle brackets, as referenced by ``cid:`` in the HTML).

Automatic mail (``is_auto_reply`` / ``auto_reason``), first matching reason wins:

``bounce``
    a failed delivery (see ``is_bounce``).
``delivery-report``
    any other delivery status notification (delayed, delivered, relayed).
``auto-submitted``
    RFC 3834 ``Auto-Submitted`` with any value but ``no``.
``loop``
    sent from one of the mailbox's own addresses, or an ``X-Loop`` naming one (only
    when the caller passes the mailbox's addresses).
``x-autoreply``
    ``X-Autoreply`` / ``X-Autorespond`` / ``X-Autoresponder`` (non-RFC responders).
``precedence``
    ``Precedence: bulk | junk | list | auto_reply``.
``null-return-path``
    ``Return-Path: <>`` (RFC 5321 null sender: only automatic mail uses it).
``mailer-daemon``
    a ``MAILER-DAEMON@`` sender (no person writes as the mail system).
``subject``
    Outlook/Exchange out-of-office subjects (``Automatische Antwort:``,
    ``Automatic reply:``, ``Abwesenheitsnotiz``...), for servers that send no header.

:func:`detect_auto_reason` is the one implementation; the inbox's header-only routing
(:mod:`.mail_routing`) calls it too.

``X-Auto-Response-Suppress`` is *not* a sign of an automatic mail: it is a request to the
recipient (help desks and Exchange put it on mail written by people, and Outlook's own
auto replies carry ``Auto-Submitted`` besides). Neither is ``List-Id`` alone: a customer
may write through a group address, and real list traffic carries ``Precedence: list`` or
``bulk`` besides. Both are reported as ``suppress_auto_response``: do not
auto-acknowledge such a mail (RFC 3834 §2: never answer list mail automatically).

``is_bounce``: a ``multipart/report; report-type=delivery-status`` (RFC 3464) with a
recipient whose ``Action`` is ``failed`` (a "delayed" warning is no bounce), or
``X-Failed-Recipients`` (Exim), or a ``mailer-daemon``/``postmaster`` sender with a null
return path. For a bounce, ``bounced_recipients`` are the failed ``Final-Recipient``
addresses of the report (or ``X-Failed-Recipients``) and ``bounced_message_id`` is the
Message-ID of the returned mail or headers (``message/rfc822``, ``text/rfc822-headers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser

from .errors import PermanentError
from .mime_auto import detect_auto_reason
from .mime_body import Attachment, collect_body, html_to_text
from .mime_bounce import read_delivery_report
from .mime_case_tokens import extract_case_token
from .mime_headers import (
    PARSE_ERRORS,
    first_header_value,
    normalize_message_id,
    normalize_message_ids,
    parse_addresses,
    parse_header_date,
    raw_headers,
)
from .mime_text import decode_header_text, unescape_surrogates


class ParseError(PermanentError):
    """The bytes are not a mail at all (empty, or no header can be read)."""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What the team inbox needs of one inbound mail. Addresses are lower-case."""

    message_id: str | None  # normalised "<id@host>"
    subject: str
    from_address: str | None
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None  # timezone-aware
    body_text: str
    body_html: str
    attachments: tuple[Attachment, ...]
    is_auto_reply: bool
    auto_reason: str | None
    is_bounce: bool
    case_token: str | None  # "C-00042"
    suppress_auto_response: bool = False
    # of a bounce: the recipients that failed and the Message-ID of our mail that bounced
    bounced_recipients: tuple[str, ...] = ()
    bounced_message_id: str | None = None


# -- entry point ------------------------------------------------------------------------


def _build(msg: Message) -> ParsedMail:
    headers = raw_headers(msg)
    if not headers:
        raise ParseError("no mail header found")
    subject = decode_header_text(first_header_value(headers, "subject"))
    from_name, from_address = _sender(headers)
    body = collect_body(msg)
    body_html = "\n".join(body.html).strip()
    body_text = "\n".join(body.text).strip() or (html_to_text(body_html) if body_html else "")
    report = read_delivery_report(msg, headers, from_address, body.attachments)
    auto_reason = detect_auto_reason(
        headers,
        subject,
        from_address,
        is_bounce=report.is_bounce,
        is_delivery_report=report.is_dsn,
    )
    return ParsedMail(
        message_id=normalize_message_id(
            unescape_surrogates(first_header_value(headers, "message-id"))
        ),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=_header_addresses(headers, "to"),
        cc=_header_addresses(headers, "cc"),
        reply_to=_header_addresses(headers, "reply-to"),
        in_reply_to=normalize_message_id(
            unescape_surrogates(first_header_value(headers, "in-reply-to"))
        ),
        references=normalize_message_ids(
            unescape_surrogates(" ".join(headers.get("references", [])))
        ),
        date=parse_header_date(unescape_surrogates(first_header_value(headers, "date"))),
        body_text=body_text,
        body_html=body_html,
        attachments=tuple(body.attachments),
        is_auto_reply=auto_reason is not None,
        auto_reason=auto_reason,
        is_bounce=report.is_bounce,
        case_token=extract_case_token(subject),
        suppress_auto_response=_suppresses_auto_response(headers),
        bounced_recipients=report.recipients,
        bounced_message_id=report.message_id,
    )


def _sender(headers: dict[str, list[str]]) -> tuple[str, str | None]:
    """``(name, address)`` of From (else Sender); an unreadable From is kept as the name."""
    senders = parse_addresses(headers.get("from", []) or headers.get("sender", []))
    from_name, from_address = senders[0] if senders else ("", None)
    if not from_name and not from_address and headers.get("from"):
        # garbage: keep it readable
        from_name = decode_header_text(first_header_value(headers, "from"))
    return from_name, from_address


def _header_addresses(headers: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """The addresses of header ``name``, each once, in order."""
    return tuple(dict.fromkeys(a for _n, a in parse_addresses(headers.get(name, []))))


def _suppresses_auto_response(headers: dict[str, list[str]]) -> bool:
    """Whether the sender asks for no automatic answer (or the mail comes from a list)."""
    suppress = first_header_value(headers, "x-auto-response-suppress").strip().lower()
    is_list = bool(headers.get("list-id"))
    return (bool(suppress) and suppress != "none") or is_list


def parse_message(raw: bytes) -> ParsedMail:
    """Parse the raw bytes of a mail; raise :class:`ParseError` only if it is none.

    Tries ``policy.default`` first and the lenient ``compat32`` on failure.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_message expects bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise ParseError("empty message")
    last_error: BaseException | None = None
    for mail_policy in (policy.default, policy.compat32):
        try:
            msg = BytesParser(policy=mail_policy).parsebytes(raw)
            return _build(msg)
        except ParseError:
            raise
        except PARSE_ERRORS as exc:
            last_error = exc
    raise ParseError(f"unreadable message: {last_error!r}") from last_error
