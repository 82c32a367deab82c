"""Routing decisions for mail arriving in a team inbox mailbox.

What is decided here, and why only this:

* A follow-up is recognised by three reliable signals only, in this order: the case token
  in the subject (``[#C-00042]``), then a Message-ID from ``In-Reply-To``/``References``
  that belongs to a message of an existing case, then the case's reply address: replies
  of a case may carry the Reply-To ``service+c-00042@shop.example`` (the mailbox address
  with the case number as sub-address, :func:`case_reply_address`), and a mail delivered
  to such an address (``Delivered-To``, ``To``, ``Cc``, ...) names its case
  (``MailHeaders.address_case_token``) even when the customer's program dropped the
  subject token and the references. A sender writing again to a recent open case is
  *not* a follow-up: people open a new topic by writing a new mail, and gluing unrelated
  mails of one sender together hides the second topic from the team.
* A reply to a closed case reopens it while the case was closed less than ``reopen_days``
  ago, else it opens a new case (``reopen_days = 0``: always a new case). An automatic
  reply never reopens a case.
* Automatic replies, bounces and mail loops are flagged so nobody answers them
  automatically; the signals are those of :func:`.mime_auto.detect_auto_reason`.

Only headers are read here; bodies, charsets and attachments are parsed by Odoo's mail
gateway. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses

from .errors import PermanentError
from .mime_auto import detect_auto_reason
from .mime_case_tokens import extract_case_token, normalize_case_number

MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
# Headers of which at least one is present in every real mail (RFC 5322 requires Date
# and From); a blob without any of them is not a mail.
_CORE_HEADERS = ("from", "date", "message-id", "subject", "to", "received")
# the sub-address of a case's reply address: "c-00042" in service+c-00042@shop.example
_CASE_SUBADDRESS_RE = re.compile(r"^c-(\d{1,12})$", re.IGNORECASE)
SUBADDRESS_DELIMITER = "+"
_RECIPIENT_HEADERS = ("Delivered-To", "To", "Cc", "Resent-To", "Resent-Cc")


class UnreadableMail(PermanentError):
    """The bytes are not an RFC 822 message: no header could be read."""


@dataclass(frozen=True, slots=True)
class MailHeaders:
    """What routing needs to know about an inbound mail."""

    message_id: str | None
    subject: str
    from_address: str | None  # lower-cased
    from_name: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    case_token: str | None
    is_auto_reply: bool
    auto_reason: str | None  # "auto-submitted", "bounce", "loop", "precedence", ...
    # lower-cased addresses of Delivered-To, To, Cc, Resent-To and Resent-Cc
    recipients: tuple[str, ...] = ()
    # the case named by a recipient that is a case reply address of the mailbox
    address_case_token: str | None = None

    @property
    def reference_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, the direct parent first, without repeats."""
        seen: dict[str, None] = {}
        for message_id in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(message_id, None)
        return tuple(seen)


# what the stdlib raises on some broken headers (e.g. IndexError for an empty encoded
# word in an address header); the inbox turns such a mail into an "unreadable" case
HEADER_PARSE_ERRORS = (
    HeaderParseError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
)


def strip_nul_headers(message: Message) -> Message:
    """Drop NUL characters from the decoded header values of ``message``, in place.

    PostgreSQL refuses NUL in text. The raw bytes may be clean while an encoded word
    (``=?utf-8?q?=00?=``) decodes to NUL; Odoo's mail gateway would then use that value
    in queries (the parent message lookup) and fail. Returns ``message``.

    Only headers that can decode to NUL are parsed: a raw NUL, an encoded word
    (``=?``) or a percent-encoded RFC 2231 parameter (``%``); the others are left as
    they are, unparsed.
    """
    suspects = [name for name, value in message.raw_items() if _may_decode_to_nul(value)]
    for name in dict.fromkeys(suspects):
        try:
            values = [str(value) for value in message.get_all(name) or []]
        except HEADER_PARSE_ERRORS:  # the stdlib fails on some broken headers: left as is
            continue
        if any("\x00" in value for value in values):
            del message[name]
            for value in values:
                text = value.replace("\x00", "")
                message[name] = text.replace("\r", " ").replace("\n", " ")
    return message


def _may_decode_to_nul(value) -> bool:
    if not isinstance(value, str):  # a header object set by code: check its text
        value = str(value)
    return "\x00" in value or "=?" in value or "%" in value


def clean_parsed_mail(msg_dict: dict) -> dict:
    """Odoo's ``message_parse`` result made safe to post: NUL dropped from every text
    value (PostgreSQL refuses it), and a text attachment whose declared charset Python
    does not know re-labelled UTF-8 (Odoo encodes it with that charset and fails)."""
    cleaned = {
        key: value.replace("\x00", "") if isinstance(value, str) else value
        for key, value in msg_dict.items()
    }
    attachments = []
    for attachment in cleaned.get("attachments") or ():
        if len(attachment) == 3 and isinstance(attachment[1], str) and attachment[2]:
            name, content, info = attachment
            try:
                codecs.lookup(info.get("encoding") or "utf-8")
            except LookupError:
                info = {**info, "encoding": "utf-8"}
                attachment = (
                    attachment._replace(info=info)
                    if hasattr(attachment, "_replace")
                    else (name, content, info)
                )
        attachments.append(attachment)
    if "attachments" in cleaned:
        cleaned["attachments"] = attachments
    return cleaned


def split_message_ids(value: str | None) -> tuple[str, ...]:
    """Return the ``<id@host>`` Message-IDs found in a header value, in order."""
    return tuple(MESSAGE_ID_RE.findall(value or ""))


def dedupe_key(message_id: str | None, raw: bytes) -> str:
    """Return the key under which a mail is stored once per mailbox.

    The Message-ID when there is one, else a SHA-256 of the raw bytes (the same mail
    fetched again after a UIDVALIDITY change has the same bytes).
    """
    if message_id:
        return message_id.strip()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def read_headers(raw: bytes, own_addresses: tuple[str, ...] = ()) -> MailHeaders:
    """Read the routing headers of ``raw``; raise :class:`UnreadableMail` if not a mail.

    ``own_addresses`` are the (lower-case) addresses of the mailbox: a mail sent from
    one of them is a loop.
    """
    if not raw or not raw.strip():
        raise UnreadableMail("empty message")
    try:
        message = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    except (HeaderParseError, ValueError, TypeError) as exc:
        raise UnreadableMail(f"headers cannot be parsed: {exc}") from exc
    keys = {key.lower() for key in message}
    if not keys.intersection(_CORE_HEADERS):
        raise UnreadableMail("no mail header found (From, Date, Message-ID, Subject, ...)")
    subject = _text(message.get("Subject"))
    name, address = _first_address(message.get_all("From") or [])
    message_ids = split_message_ids(_text(message.get("Message-ID")))
    auto_reason = detect_auto_reason(
        _header_values(message), subject, address, own_addresses=own_addresses
    )
    recipients = _recipients(message)
    return MailHeaders(
        message_id=message_ids[0] if message_ids else None,
        subject=subject,
        from_address=address,
        from_name=name,
        in_reply_to=split_message_ids(_text(message.get("In-Reply-To"))),
        references=split_message_ids(_text(message.get("References"))),
        case_token=extract_case_token(subject),
        is_auto_reply=auto_reason is not None,
        auto_reason=auto_reason,
        recipients=recipients,
        address_case_token=case_token_from_addresses(recipients, own_addresses),
    )


def case_reply_address(mailbox_address: str, case_number: str | int) -> str:
    """Return the reply address of a case: ``service+c-00042@shop.example``.

    The mailbox address with the case number as sub-address (RFC 5233). The mail server
    must deliver sub-addresses to the mailbox (Postfix ``recipient_delimiter = +``,
    Dovecot, Gmail and Microsoft 365 do). Raise :class:`PermanentError` for an address
    without ``@`` or a case number that is none.
    """
    local, sep, domain = (mailbox_address or "").strip().rpartition("@")
    if not sep or not local or not domain:
        raise PermanentError(f"not a mailbox address: {mailbox_address!r}")
    local = local.split(SUBADDRESS_DELIMITER, 1)[0]
    number = normalize_case_number(case_number)
    return f"{local}{SUBADDRESS_DELIMITER}{number.lower()}@{domain}"


def case_token_from_addresses(
    addresses: tuple[str, ...] | list[str], own_addresses: tuple[str, ...] | list[str]
) -> str | None:
    """Return the case number (``"C-00042"``) of the first case reply address among
    ``addresses`` that belongs to one of ``own_addresses``, or None.

    Only the mailbox's own addresses count (same local part before ``+``, same domain,
    any letter case): ``service+c-42@shop.example`` names case C-00042 for the mailbox
    ``service@shop.example``, while ``info+c-42@other.example`` names nothing.
    """
    own = set()
    for item in own_addresses:
        local, sep, domain = (item or "").strip().lower().rpartition("@")
        if sep and local and domain:
            own.add((local.split(SUBADDRESS_DELIMITER, 1)[0], domain))
    for address in addresses:
        local, sep, domain = (address or "").strip().lower().rpartition("@")
        base, plus, detail = local.partition(SUBADDRESS_DELIMITER)
        if not (sep and plus and (base, domain) in own):
            continue
        match = _CASE_SUBADDRESS_RE.match(detail)
        if match:
            return normalize_case_number(int(match.group(1)))
    return None


def decide_followup(
    closed_date: datetime | None, now: datetime, reopen_days: int, is_auto_reply: bool
) -> str:
    """Return what a mail matched to a case does: ``update``, ``reopen`` or ``new``.

    ``closed_date`` is None while the case is open. An automatic reply to a closed case
    is attached to it without reopening it.
    """
    if closed_date is None:
        return "update"
    if is_auto_reply:
        return "update"
    if reopen_days > 0 and now - closed_date < timedelta(days=reopen_days):
        return "reopen"
    return "new"


@dataclass(frozen=True, slots=True)
class SentCopy:
    """A reply sent from a case, to be filed in the mailbox's Sent folder."""

    message_id: str
    date: datetime  # timezone-aware
    from_name: str
    from_address: str
    to: tuple[tuple[str, str], ...]  # (name, address)
    subject: str
    body_html: str
    in_reply_to: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (file name, mimetype, content)
    references: str | None = None  # as the mail went out; else the In-Reply-To alone


def build_sent_copy(copy: SentCopy) -> bytes:
    """Return the RFC 822 bytes filed in the Sent folder for a reply sent from a case.

    It keeps the Message-ID of the sent mail, so the customer's answer (In-Reply-To) and
    a later sync of the Sent folder both find the case again.
    """
    if copy.date.tzinfo is None:
        raise ValueError("date must be timezone-aware")
    if not copy.to:
        raise PermanentError(f"reply {copy.message_id} has no recipient")
    message = EmailMessage(policy=policy.SMTP)
    message["Message-ID"] = copy.message_id
    message["Date"] = format_datetime(copy.date)
    message["From"] = formataddr((copy.from_name, copy.from_address))
    message["To"] = ", ".join(formataddr(pair) for pair in copy.to)
    message["Subject"] = copy.subject
    if copy.in_reply_to:
        message["In-Reply-To"] = copy.in_reply_to
    references = " ".join((copy.references or "").split()) or copy.in_reply_to
    if references:
        message["References"] = references
    message.set_content(copy.body_html or "<p></p>", subtype="html")
    for file_name, mimetype, content in copy.attachments:
        maintype, _sep, subtype = (mimetype or "application/octet-stream").partition("/")
        message.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=file_name
        )
    return message.as_bytes()


def _text(value) -> str:
    """Decode an RFC 2047 header value to text; undecodable parts stay as they are.

    NUL characters are dropped: PostgreSQL refuses them in text (a Message-ID holding
    one would make every lookup of the mail fail).
    """
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        text = str(value)
    return text.replace("\x00", "").strip()


def _first_address(values: list) -> tuple[str, str | None]:
    for name, address in getaddresses([_text(v) for v in values]):
        if address and "@" in address:
            return name, address.strip().lower()
    return "", None


def _recipients(message) -> tuple[str, ...]:
    values = [
        _text(value) for name in _RECIPIENT_HEADERS for value in (message.get_all(name) or [])
    ]
    seen: dict[str, None] = {}
    for _name, address in getaddresses(values):
        if address and "@" in address:
            seen.setdefault(address.strip().lower(), None)
    return tuple(seen)


def _header_values(message) -> dict[str, list[str]]:
    """Lower-case header names and their raw values, as :func:`.mime_auto.detect_auto_reason`
    reads them."""
    headers: dict[str, list[str]] = {}
    for name, value in message.items():
        if isinstance(name, str):
            headers.setdefault(name.strip().lower(), []).append(_text(value))
    return headers
