"""What routing needs to know about one batch of inbound mails, looked up once.

Processing a batch of stored mails asks the same questions for every mail: is this
Message-ID already on a case, which case carries this token, which case holds the
message this mail answers, which contact owns this address. :func:`collect_lookups` gathers
the keys of a whole batch, so the model answers each question with one query;
:class:`RoutingBatch` holds the answers and applies the routing rules of
:mod:`.mail_routing` to them (token first, then the direct parent, then older
references). Cases created while the batch runs are added with :meth:`RoutingBatch.remember`,
so a follow-up later in the same batch finds the case an earlier mail opened.

A missing answer is reported (``None``), never guessed: the caller may ask the database
again (another worker may have created the case meanwhile). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .mail_routing import MailHeaders


@dataclass(frozen=True, slots=True)
class Lookups:
    """The keys to look up for a batch."""

    tokens: frozenset[str]
    message_ids: frozenset[str]  # own Message-IDs and the ones answered
    emails: frozenset[str]  # lower-case sender and recipient addresses


def collect_lookups(headers: Iterable[MailHeaders | None]) -> Lookups:
    """Return every token, Message-ID and address of the batch's headers."""
    tokens, message_ids, emails = set(), set(), set()
    for item in headers:
        if item is None:
            continue
        if item.case_token:
            tokens.add(item.case_token)
        if item.message_id:
            message_ids.add(item.message_id)
        message_ids.update(item.reference_ids)
        if item.from_address:
            emails.add(item.from_address)
        emails.update(item.recipients)
    return Lookups(frozenset(tokens), frozenset(message_ids), frozenset(emails))


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case as routing sees it."""

    case_id: int
    number: str
    company_id: int | None


@dataclass(slots=True)
class RoutingBatch:
    """Answers for one batch; ``remember`` adds what the batch itself created."""

    cases_by_number: dict[str, list[CaseRef]] = field(default_factory=dict)
    case_by_message_id: dict[str, int] = field(default_factory=dict)
    partner_by_email: dict[str, int | None] = field(default_factory=dict)
    headers: dict[int, MailHeaders | None] = field(default_factory=dict)
    staged: dict[int, tuple[str | None, CaseRef | None]] = field(default_factory=dict)
    asked_message_ids: set[str] = field(default_factory=set)
    extras: dict = field(default_factory=dict)  # the caller's own per-batch answers

    def add_cases(self, cases: Iterable[CaseRef]) -> None:
        """Add cases found by token, in the order the search returned them."""
        for case in cases:
            known = self.cases_by_number.setdefault(case.number, [])
            if all(ref.case_id != case.case_id for ref in known):
                known.append(case)

    def case_for_token(self, token: str | None, company_ids: Iterable[int | None]) -> int | None:
        """The case numbered ``token`` in one of ``company_ids`` (None: no company)."""
        if not token:
            return None
        allowed = set(company_ids)
        for ref in self.cases_by_number.get(token, ()):
            if ref.company_id in allowed:
                return ref.case_id
        return None

    def case_for_message(self, message_id: str | None) -> int | None:
        """The case already holding the mail ``message_id``."""
        return self.case_by_message_id.get(message_id) if message_id else None

    def add_messages(self, asked: Iterable[str], found: Iterable[tuple[str, int]]) -> None:
        """Record the answer to "which case holds these Message-IDs" (first one wins)."""
        self.asked_message_ids.update(asked)
        for message_id, case_id in found:
            self.case_by_message_id.setdefault(message_id, case_id)

    def was_asked(self, message_id: str | None) -> bool:
        """True when the batch knows whether ``message_id`` is on a case."""
        return bool(message_id) and (
            message_id in self.asked_message_ids or message_id in self.case_by_message_id
        )

    def case_for_references(self, headers: MailHeaders) -> int | None:
        """The case of the nearest answered message (the direct parent wins)."""
        for reference in headers.reference_ids:
            if reference in self.case_by_message_id:
                return self.case_by_message_id[reference]
        return None

    def partner_for(self, email: str | None) -> int | None:
        """The contact owning ``email`` (lower-case), None when unknown or not looked up."""
        return self.partner_by_email.get(email) if email else None

    def has_partner_answer(self, email: str | None) -> bool:
        """True when ``email`` was looked up (even without a match)."""
        return bool(email) and email in self.partner_by_email

    def remember(self, message_id: str | None, case: CaseRef | None) -> None:
        """Record that ``message_id`` is now on ``case`` (created or updated in this batch)."""
        if case is None:
            return
        if message_id:
            self.case_by_message_id[message_id] = case.case_id
        self.add_cases([case])

    def stage(self, mail_id: int, message_id: str | None, case: CaseRef | None) -> None:
        """Note what mail ``mail_id`` routed; it counts once the mail is done."""
        self.staged[mail_id] = (message_id, case)

    def confirm(self, mail_id: int) -> None:
        """Mail ``mail_id`` is done: later mails may find its case."""
        message_id, case = self.staged.pop(mail_id, (None, None))
        self.remember(message_id, case)

    def discard(self, mail_id: int) -> None:
        """Mail ``mail_id`` failed (its work was rolled back): forget what it routed."""
        self.staged.pop(mail_id, None)

    def likely_new_cases(self, mail_ids: Iterable[int]) -> int:
        """How many of ``mail_ids`` are expected to open a new case, as far as the batch
        knows: readable mails not already on a case, without a known case token and not
        answering a message on a case or another mail of the batch.

        An estimate to reserve case numbers ahead (a follow-up of a closed case also
        opens one); unreadable mails are not counted.
        """
        in_batch = {item.message_id for item in self.headers.values() if item and item.message_id}
        count = 0
        for mail_id in mail_ids:
            item = self.headers.get(mail_id)
            if item is None or self.case_for_message(item.message_id) is not None:
                continue
            if item.case_token and item.case_token in self.cases_by_number:
                continue
            if any(ref in self.case_by_message_id or ref in in_batch for ref in item.reference_ids):
                continue
            count += 1
        return count
