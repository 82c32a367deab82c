"""What payment matching takes and gives: candidates, evidence, proposals and settings.

The rules and their points are listed in the docstring of :mod:`.matching`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)

POINTS = {
    "structured_reference": 55,
    "reference_exact": 50,
    "reference_mangled": 35,
    "amount_equal": 30,
    "amount_within_tolerance": 15,
    "amount_partial": 5,
    "amount_overpaid": 5,
    "amount_converted": 20,
    "collective_amount": 30,
    "payer_known": 25,
    "payer_name_learned": 20,
    "payer_name_strong": 15,
    "payer_name_weak": 8,
    "date_plausible": 5,
    "date_before_order": -25,
    "date_very_late": -10,
}
REFERENCE_RULES = ("structured_reference", "reference_exact", "reference_mangled")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open order or invoice money may be paid for."""

    kind: str  # "order" or "invoice"
    id: int
    reference: str
    invoice_number: str = ""
    structured_ref: str = ""
    # the order number the customer saw in the shop ("#900000"), for the order and its
    # invoices: PayPal and bank transfers name this one, not ours
    shop_refs: tuple[str, ...] = ()
    partner_id: int | None = None
    partner_names: tuple[str, ...] = ()
    partner_ibans: tuple[str, ...] = ()
    partner_emails: tuple[str, ...] = ()
    amount_due: Decimal = ZERO
    currency: str = "EUR"
    date: date | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason for (or against) a match: the rule, its points and the facts seen."""

    rule: str
    points: int
    detail: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A candidate (or, for a collective payment, several) with its explained score."""

    candidate_ids: tuple[int, ...]
    score: int
    evidence: tuple[Evidence, ...]
    needs_person: bool = False
    reason: str = ""

    @property
    def candidate_id(self) -> int:
        return self.candidate_ids[0]

    @property
    def has_reference(self) -> bool:
        return any(e.rule in REFERENCE_RULES for e in self.evidence)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked proposals for one transaction and whether the best may be auto-confirmed."""

    transaction_key: str
    proposals: tuple[Proposal, ...]
    auto_confirm: Proposal | None
    needs_person: bool
    reason: str


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Thresholds of the matcher (amounts in the transaction's currency)."""

    auto_threshold: int = 80
    min_gap: int = 30
    tolerance_abs: Decimal = Decimal("1.00")
    tolerance_pct: Decimal = Decimal("1")
    max_proposals: int = 5
    amount_bucket_limit: int = 25
    strong_name: float = 0.9
    weak_name: float = 0.75
    fx_tolerance_pct: Decimal = Decimal("2")
