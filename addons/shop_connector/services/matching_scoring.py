"""The explained score of a candidate for a transaction, and of a collective payment.

Every point comes with an :class:`.matching_types.Evidence`; the rules and their points are
listed in the docstring of :mod:`.matching`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from itertools import combinations

from .matching_index import CandidateIndex
from .matching_normalise import name_similarity
from .matching_types import POINTS, ZERO, Candidate, Evidence, MatchSettings, Proposal
from .payments import BankTransaction

MAX_COLLECTIVE_REFS = 8
CENT = Decimal("0.01")


def _tolerance(due: Decimal, settings: MatchSettings) -> Decimal:
    return min(settings.tolerance_abs, abs(due) * settings.tolerance_pct / 100)


def _amount_evidence(
    paid: Decimal,
    cand: Candidate,
    currency: str,
    settings: MatchSettings,
    rate: Decimal | None = None,
) -> tuple[Evidence | None, str]:
    """Evidence on the amount and the reason a person is needed ('' if none).

    ``rate`` converts ``currency`` into the candidate's currency (None: no rate known).
    """
    if cand.currency != currency:
        return _converted_evidence(paid, cand, currency, settings, rate)
    due = cand.amount_due
    if paid == due:
        return Evidence("amount_equal", POINTS["amount_equal"], f"{paid} {currency} as due"), ""
    diff = paid - due
    if abs(diff) <= _tolerance(due, settings):
        return (
            Evidence(
                "amount_within_tolerance",
                POINTS["amount_within_tolerance"],
                f"paid {paid}, due {due} (difference {diff})",
            ),
            f"amount differs by {diff} {currency}",
        )
    return _partial_or_overpaid_evidence(paid, due, diff, currency)


def _partial_or_overpaid_evidence(
    paid: Decimal, due: Decimal, diff: Decimal, currency: str
) -> tuple[Evidence | None, str]:
    """An amount beyond the tolerance: a partial payment or an overpayment (else none)."""
    if ZERO < paid < due:
        return (
            Evidence("amount_partial", POINTS["amount_partial"], f"paid {paid} of {due}"),
            f"partial payment: {paid} of {due} {currency}",
        )
    if paid > due:
        return (
            Evidence(
                "amount_overpaid",
                POINTS["amount_overpaid"],
                f"paid {paid}, due {due}: overpaid by {diff} {currency}",
            ),
            f"overpayment: {paid} for {due} {currency} due, {diff} {currency} too much",
        )
    return None, ""


def _converted_evidence(
    paid: Decimal, cand: Candidate, currency: str, settings: MatchSettings, rate: Decimal | None
) -> tuple[Evidence, str]:
    """A payment in another currency: converted at ``rate``, it fits or it does not."""
    due = cand.amount_due
    if rate is None or rate <= 0:
        return (
            Evidence("currency_differs", 0, f"paid in {currency}, due in {cand.currency}"),
            f"foreign currency: paid {paid} {currency}, due {due} {cand.currency}, no rate",
        )
    converted = (paid * rate).quantize(CENT)
    fact = (
        f"{paid} {currency} converted at rate {rate.normalize()} = {converted} {cand.currency}, "
        f"due {due} {cand.currency}"
    )
    if abs(converted - due) <= abs(due) * settings.fx_tolerance_pct / 100:
        return (
            Evidence("amount_converted", POINTS["amount_converted"], fact),
            f"foreign currency: {fact}; check the amount the bank credited",
        )
    return (
        Evidence("currency_differs", 0, fact),
        f"foreign currency: {fact}; the amounts differ",
    )


def _date_evidence(booked: date, cand: Candidate) -> Evidence | None:
    if cand.date is None:
        return None
    days = (booked - cand.date).days
    if days < -3:
        return Evidence(
            "date_before_order", POINTS["date_before_order"], f"paid {-days} days before it"
        )
    if days > 180:
        return Evidence("date_very_late", POINTS["date_very_late"], f"paid {days} days after")
    if days <= 90:
        return Evidence("date_plausible", POINTS["date_plausible"], f"paid {days} days after")
    return None


def _name_evidence(payer: str, cand: Candidate, settings: MatchSettings) -> Evidence | None:
    if not payer or not cand.partner_names:
        return None
    best, best_name = max((name_similarity(payer, n), n) for n in cand.partner_names)
    if best >= settings.strong_name:
        return Evidence(
            "payer_name", POINTS["payer_name_strong"], f"{payer!r} ~ {best_name!r} ({best:.2f})"
        )
    if best >= settings.weak_name:
        return Evidence(
            "payer_name", POINTS["payer_name_weak"], f"{payer!r} ~ {best_name!r} ({best:.2f})"
        )
    return None


def _score(evidence: list[Evidence]) -> int:
    return max(0, min(100, sum(e.points for e in evidence)))


def score_candidate(
    txn: BankTransaction,
    cand: Candidate,
    reference: Evidence | None,
    payer_known: str | None,
    settings: MatchSettings,
    learned_name: str | None = None,
    rate: Decimal | None = None,
) -> Proposal:
    """Score one candidate for ``txn``, with the evidence for every point.

    ``learned_name`` (the payer's name paid for this customer before) is the stronger of
    the two name rules and replaces the fuzzy ``payer_name`` one: a name counts once.
    """
    evidence: list[Evidence] = []
    reasons: list[str] = []
    if reference is not None:
        evidence.append(reference)
    amount, reason = _amount_evidence(abs(txn.amount), cand, txn.currency, settings, rate)
    if amount is not None:
        evidence.append(amount)
    if reason:
        reasons.append(reason)
    if payer_known:
        evidence.append(Evidence("payer_known", POINTS["payer_known"], payer_known))
    if learned_name:
        evidence.append(Evidence("payer_name_learned", POINTS["payer_name_learned"], learned_name))
    else:
        name = _name_evidence(txn.counterparty_name, cand, settings)
        if name is not None:
            evidence.append(name)
    when = _date_evidence(txn.booking_date, cand)
    if when is not None:
        evidence.append(when)
    return Proposal(
        (cand.id,), _score(evidence), tuple(evidence), bool(reasons), "; ".join(reasons)
    )


def collective_match(
    txn: BankTransaction,
    index: CandidateIndex,
    references: dict[int, Evidence],
    payers: dict[int, str],
    settings: MatchSettings,
    learned: Mapping[int, str] | None = None,
) -> Proposal | None:
    """Several referenced candidates whose amounts add up exactly to the payment."""
    ids = [
        cid
        for cid in references
        if index.candidates[cid].currency == txn.currency and index.candidates[cid].amount_due > 0
    ]
    if len(ids) < 2 or len(ids) > MAX_COLLECTIVE_REFS:
        return None
    paid = abs(txn.amount)
    for size in range(len(ids), 1, -1):
        for group in combinations(ids, size):
            total = sum((index.candidates[c].amount_due for c in group), ZERO)
            if total != paid:
                continue
            members = [index.candidates[c] for c in group]
            refs = [references[c] for c in group]
            return _collective_proposal(txn, members, refs, payers, settings, learned or {})
    return None


def _collective_proposal(
    txn: BankTransaction,
    members: list[Candidate],
    refs: list[Evidence],
    payers: dict[int, str],
    settings: MatchSettings,
    learned: Mapping[int, str],
) -> Proposal:
    """The explained proposal of ``members``, whose amounts add up to the payment."""
    weakest = min(refs, key=lambda e: e.points)
    evidence = [
        Evidence(weakest.rule, weakest.points, " + ".join(e.detail for e in refs)),
        Evidence(
            "collective_amount",
            POINTS["collective_amount"],
            f"{len(members)} open amounts add up to {abs(txn.amount)} {txn.currency}",
        ),
    ]
    if any(m.partner_id in payers for m in members):
        evidence.append(Evidence("payer_known", POINTS["payer_known"], "payer known for them"))
    evidence.extend(_members_name_evidence(txn, members, learned, settings))
    dates = [_date_evidence(txn.booking_date, m) for m in members]
    if dates and all(d is not None and d.rule == "date_plausible" for d in dates):
        evidence.append(Evidence("date_plausible", POINTS["date_plausible"], "all"))
    mangled = weakest.rule == "reference_mangled"
    return Proposal(
        tuple(m.id for m in members),
        _score(evidence),
        tuple(evidence),
        mangled,
        "collective payment with uncertain references" if mangled else "",
    )


def _members_name_evidence(
    txn: BankTransaction,
    members: list[Candidate],
    learned: Mapping[int, str],
    settings: MatchSettings,
) -> list[Evidence]:
    """The one name evidence of a collective payment: learned if any member's, else fuzzy."""
    known = next((learned[m.partner_id] for m in members if m.partner_id in learned), None)
    if known:
        return [Evidence("payer_name_learned", POINTS["payer_name_learned"], known)]
    names = [_name_evidence(txn.counterparty_name, m, settings) for m in members]
    best_name = max((n for n in names if n), key=lambda n: n.points, default=None)
    return [best_name] if best_name is not None else []
