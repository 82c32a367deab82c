"""Explainable matching of incoming money to open orders and invoices.

Each transaction is scored against the open candidates it can plausibly belong to; every
point of a score comes with an :class:`Evidence` saying which rule gave it and why, so a
person can see at a glance why a payment was (or was not) matched.

Rules and their points (a score is capped to 0..100):

=========================  ======  ====================================================
rule                       points  when
=========================  ======  ====================================================
structured_reference         55    the candidate's RF creditor reference is in the purpose
reference_exact              50    order/invoice number, or the shop's own order number
                                   (``shop_refs``: "#900000", "WC-1234"), in the purpose
                                   (case, spaces, dashes and '#' ignored)
reference_mangled            35    found only after OCR-ish confusions (O/0, I/1, S/5…)
                                   or without its letter prefix / leading zeros
amount_equal                 30    amount equals the amount due
amount_within_tolerance      15    differs by at most the tolerance (needs a person)
amount_partial                5    less than due (partial payment, needs a person)
amount_overpaid               5    more than due (overpayment, needs a person; the
                                   evidence says by how much)
amount_converted             20    paid in another currency: converted at the rate of the
                                   payment day it fits the amount due within
                                   ``fx_tolerance_pct`` (always needs a person)
currency_differs              0    another currency and no rate, or it does not fit
collective_amount            30    several referenced candidates sum up to the amount
payer_known                  25    IBAN or PayPal e-mail known for the customer (on the
                                   partner or learned in ``known_payers``)
payer_name_learned           20    the payer's name paid for the customer before (learned
                                   names, see :func:`payer_name_key`); replaces payer_name
payer_name                 8..15   payer name resembles the customer's (fuzzy)
date_plausible                5    paid from 3 days before to 90 days after the date
date_implausible          -25/-10  paid long before the order existed / very late
=========================  ======  ====================================================

Foreign currency: a payment in another currency than the order or invoice is converted
with the rate the caller gives (``rates``, in Odoo the company's rate of the payment day)
and, if it fits, proposed with the evidence "converted at rate X"; it is never confirmed
automatically (a person checks what the bank really credited). Without a rate it is left
to a person with the reason.

Auto-confirm (the target is *no wrong automatic match*): only an incoming payment whose
best proposal needs no person, scores at least ``auto_threshold`` (so a reference is
always part of it) and whose runner-up (not a part of it) is ``min_gap`` points below.

Speed: candidates are indexed by reference keys, amount, partner keys and payer name, and
learned payer names by their normalised key, so each transaction only scores the handful
of candidates sharing something with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal

from .matching_index import CandidateIndex
from .matching_normalise import name_tokens
from .matching_scoring import collective_match, score_candidate
from .matching_types import Candidate, Evidence, MatchResult, MatchSettings, Proposal
from .payments import BankTransaction

# rate(from currency, to currency, day) -> units of ``to`` for one ``from``, or None
Rates = Callable[[str, str, date], "Decimal | None"]


def _retrieve(
    txn: BankTransaction,
    index: CandidateIndex,
    references: dict[int, Evidence],
    payers: Mapping[int, str],
    settings: MatchSettings,
) -> set[int]:
    ids = set(references)
    for pid in payers:
        ids.update(index.by_partner.get(pid, ()))
    bucket = index.by_amount.get((txn.currency, abs(txn.amount)), ())
    if len(bucket) <= settings.amount_bucket_limit:
        ids.update(bucket)
    else:
        named = index.by_name.get(name_tokens(txn.counterparty_name), set()) | set(payers)
        key = (txn.currency, abs(txn.amount))
        for pid in named:
            ids.update(index.by_amount_partner.get((*key, pid), ()))
    return ids


_NO_MATCHING = {
    "fee": "fee: book it as a bank or PayPal charge",
    "conversion": "currency conversion: no order to match",
    "transfer": "transfer between own accounts: no order to match",
}


def match_transaction(
    txn: BankTransaction,
    index: CandidateIndex,
    known_payers: Mapping[str, int] | None = None,
    settings: MatchSettings | None = None,
    rates: Rates | None = None,
) -> MatchResult:
    """Rank the open candidates for ``txn`` and decide whether to auto-confirm the best.

    ``known_payers`` maps an IBAN (no spaces, upper case) or a lower-case e-mail to the
    partner it paid for before (learned from confirmed matches); learned payer names are
    given to the index (:class:`CandidateIndex`), which normalises them once. ``rates``
    converts a payment in another currency than a candidate's (see the module docstring).
    """
    settings = settings or MatchSettings()
    if txn.kind in _NO_MATCHING:
        return MatchResult(txn.key, (), None, True, _NO_MATCHING[txn.kind])
    proposals = _ranked_proposals(txn, index, known_payers or {}, settings, rates)
    if txn.amount < 0 or txn.kind in ("refund", "reversal"):
        why = "reversal (returned payment)" if txn.kind == "reversal" else "outgoing money"
        proposals = [
            Proposal(p.candidate_ids, p.score, p.evidence, True, _join(why, p.reason))
            for p in proposals
        ]
    if not proposals:
        return MatchResult(txn.key, (), None, True, "no open order or invoice fits")
    return _decide(txn.key, proposals, settings)


def _ranked_proposals(
    txn: BankTransaction,
    index: CandidateIndex,
    known_payers: Mapping[str, int],
    settings: MatchSettings,
    rates: Rates | None,
) -> list[Proposal]:
    """The best ``max_proposals`` proposals with a positive score, best first."""

    def rate_for(cand: Candidate) -> Decimal | None:
        if cand.currency == txn.currency or rates is None:
            return None
        return rates(txn.currency, cand.currency, txn.booking_date)

    references = index.find_references(" ".join((txn.purpose, txn.end_to_end_id)))
    payers = index.payer_partners(txn, known_payers)
    learned = index.learned_name_partners(txn)
    proposals = [
        score_candidate(
            txn,
            index.candidates[cid],
            references.get(cid),
            payers.get(index.candidates[cid].partner_id),
            settings,
            learned.get(index.candidates[cid].partner_id),
            rate_for(index.candidates[cid]),
        )
        for cid in _retrieve(txn, index, references, {**learned, **payers}, settings)
    ]
    collective = collective_match(txn, index, references, payers, settings, learned)
    if collective is not None:
        proposals.append(collective)
    proposals = [p for p in proposals if p.score > 0]
    proposals.sort(key=lambda p: (-p.score, p.needs_person, len(p.candidate_ids), p.candidate_ids))
    return proposals[: settings.max_proposals]


def _decide(key: str, proposals: list[Proposal], settings: MatchSettings) -> MatchResult:
    """Auto-confirm the top proposal, or say why a person must decide."""
    top = proposals[0]
    runner_up = next(
        (p for p in proposals[1:] if not set(p.candidate_ids) <= set(top.candidate_ids)), None
    )
    gap = top.score - (runner_up.score if runner_up else 0)
    if top.needs_person:
        reason = top.reason
    elif top.score < settings.auto_threshold or not top.has_reference:
        reason = f"best score {top.score} is below {settings.auto_threshold}"
    elif gap < settings.min_gap:
        reason = f"ambiguous: runner-up only {gap} points below"
    else:
        return MatchResult(key, tuple(proposals), top, False, "")
    return MatchResult(key, tuple(proposals), None, True, reason)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def match_all(
    transactions: Iterable[BankTransaction],
    candidates: Iterable[Candidate],
    known_payers: Mapping[str, int] | None = None,
    settings: MatchSettings | None = None,
    learned_names: Mapping[str, int] | None = None,
    rates: Rates | None = None,
) -> list[MatchResult]:
    """Match many transactions against one set of open candidates (indexed once).

    ``learned_names`` maps payer names of confirmed payments to the partner they paid for
    (see :class:`CandidateIndex`); ``rates`` converts foreign currencies (see
    :func:`match_transaction`). A candidate may be proposed to several transactions;
    the glue confirms one match at a time and re-runs the rest with what is still open.
    """
    index = CandidateIndex(candidates, learned_names)
    return [match_transaction(t, index, known_payers, settings, rates) for t in transactions]
