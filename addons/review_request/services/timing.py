"""When an invitation goes out, whether a reminder follows, and who may get one.

Plain dates in, decisions out: the Odoo glue reads the records, passes ``now`` and
writes the result back. Never more than one invitation and one reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

INVITE = "invite"
REMIND = "remind"
WAIT = "wait"
DONE = "done"

BASIS_CONSENT = "consent"
BASIS_EXISTING_CUSTOMER = "existing_customer"


def scheduled_date(
    shipped_date: datetime | None, delivered_date: datetime | None, delay_days: int
) -> datetime | None:
    """The invitation date: ``delay_days`` after delivery.

    The carrier's delivered date wins over the date the parcel left the warehouse.
    """
    base = delivered_date or shipped_date
    if base is None:
        return None
    return base + timedelta(days=max(delay_days, 0))


@dataclass(frozen=True, slots=True)
class Progress:
    """What has happened to one request so far."""

    scheduled_date: datetime | None
    sent_date: datetime | None = None
    reminder_sent_date: datetime | None = None
    clicked: bool = False
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    action: str  # INVITE, REMIND, WAIT or DONE
    due_date: datetime | None  # when the next action is due (WAIT), else None


def next_step(progress: Progress, reminder_days: int, now: datetime) -> Step:
    """Return what to do now for a request; ``reminder_days`` 0 means no reminder."""
    if progress.opted_out or progress.clicked or progress.reminder_sent_date:
        return Step(DONE, None)
    if progress.sent_date is None:
        if progress.scheduled_date is None:
            return Step(WAIT, None)
        if progress.scheduled_date <= now:
            return Step(INVITE, None)
        return Step(WAIT, progress.scheduled_date)
    if reminder_days <= 0:
        return Step(DONE, None)
    due = progress.sent_date + timedelta(days=reminder_days)
    return Step(REMIND, None) if due <= now else Step(WAIT, due)


@dataclass(frozen=True, slots=True)
class Consent:
    allowed: bool
    basis: str | None  # BASIS_CONSENT / BASIS_EXISTING_CUSTOMER when allowed
    reason: str  # English technical explanation when refused


def decide_consent(
    has_email: bool,
    consented: bool,
    opted_out: bool,
    existing_customer_allowed: bool,
    informed_at_collection: bool,
) -> Consent:
    """May we mail this customer an invitation, and on which legal basis?

    Opt-out always wins. Express consent suffices. Otherwise UWG §7(3) allows mails
    to an existing customer whose address was obtained with a sale, when the shop
    enabled this and the customer was informed of the right to object when the
    address was collected; each mail then carries the opt-out notice.
    """
    if not has_email:
        return Consent(False, None, "the customer has no e-mail address")
    if opted_out:
        return Consent(False, None, "the customer opted out of review invitations")
    if consented:
        return Consent(True, BASIS_CONSENT, "")
    if not existing_customer_allowed:
        return Consent(False, None, "no consent and the existing-customer exception is off")
    if not informed_at_collection:
        return Consent(False, None, "customer was not informed of the right to object")
    return Consent(True, BASIS_EXISTING_CUSTOMER, "")


@dataclass(frozen=True, slots=True)
class Hold:
    held: bool
    reasons: tuple[str, ...]


def decide_hold(open_case: bool, open_return: bool, refund: bool, delivery_problem: bool) -> Hold:
    """An invitation waits while anything about the order is unresolved."""
    reasons = tuple(
        name
        for name, flag in (
            ("open case", open_case),
            ("return", open_return),
            ("refund", refund),
            ("delivery problem", delivery_problem),
        )
        if flag
    )
    return Hold(bool(reasons), reasons)
