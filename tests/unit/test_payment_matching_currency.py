"""Foreign currency and overpayments in the matcher: converted at the given rate, explained."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shopaddons.shop_connector.services.matching import match_all, match_transaction
from shopaddons.shop_connector.services.matching_index import CandidateIndex
from shopaddons.shop_connector.services.matching_types import POINTS, Candidate, MatchSettings
from shopaddons.shop_connector.services.payments import BankTransaction

D = Decimal
DAY = date(2026, 3, 2)
EURO_ORDER = Candidate(
    "order", 1, "SO-007001", partner_id=1, amount_due=D("92.59"), currency="EUR", date=DAY
)
DOLLAR_INVOICE = Candidate(
    "invoice",
    2,
    "SO-007002",
    invoice_number="INV/2026/00042",
    partner_id=2,
    amount_due=D("108.00"),
    currency="USD",
    date=DAY,
)
INDEX = CandidateIndex([EURO_ORDER, DOLLAR_INVOICE])
RATES = {("USD", "EUR"): D("0.925926"), ("EUR", "USD"): D("1.08")}
SEEN: list[tuple[str, str, date]] = []


def rates(source: str, target: str, day: date) -> Decimal | None:
    SEEN.append((source, target, day))
    return RATES.get((source, target))


def _txn(amount, purpose, currency, day=DAY):
    return BankTransaction(
        key=f"t:{purpose}:{amount}:{currency}",
        account="DE02",
        booking_date=day,
        value_date=None,
        amount=D(amount),
        currency=currency,
        purpose=purpose,
    )


def _evidence(proposal, rule):
    return next(e for e in proposal.evidence if e.rule == rule)


def test_converted_payment_is_proposed_with_its_rate_but_never_automatic():
    SEEN.clear()
    result = match_transaction(
        _txn("100.00", "SO-007001", "USD"), INDEX, settings=MatchSettings(), rates=rates
    )
    top = result.proposals[0]
    assert top.candidate_ids == (1,)
    converted = _evidence(top, "amount_converted")
    assert converted.points == POINTS["amount_converted"]
    assert "converted at rate 0.925926 = 92.59 EUR" in converted.detail
    assert "due 92.59 EUR" in converted.detail
    assert top.needs_person
    assert "foreign currency" in top.reason and "rate 0.925926" in top.reason
    assert result.auto_confirm is None
    assert SEEN == [("USD", "EUR", DAY)], "the rate of the payment day is asked for"


def test_a_euro_payment_for_a_dollar_invoice_converts_the_other_way():
    result = match_all([_txn("100.00", "INV/2026/00042", "EUR")], [DOLLAR_INVOICE], rates=rates)
    top = result[0].proposals[0]
    assert "amount_converted" in {e.rule for e in top.evidence}
    assert "= 108.00 USD" in _evidence(top, "amount_converted").detail


@pytest.mark.parametrize("pct", [D("2"), D("0.5")])
def test_conversion_tolerance_decides_whether_it_fits(pct):
    # 101.00 USD = 93.52 EUR: 1.0 % above the 92.59 due
    result = match_transaction(
        _txn("101.00", "SO-007001", "USD"),
        INDEX,
        settings=MatchSettings(fx_tolerance_pct=pct),
        rates=rates,
    )
    top = result.proposals[0]
    rules = {e.rule for e in top.evidence}
    if pct == D("2"):
        assert "amount_converted" in rules
    else:
        assert "amount_converted" not in rules
        assert "currency_differs" in rules
        assert "the amounts differ" in top.reason
    assert result.auto_confirm is None


def test_without_a_rate_the_payment_is_left_to_a_person_with_the_reason():
    result = match_transaction(_txn("100.00", "SO-007001", "CHF"), INDEX, rates=rates)
    top = result.proposals[0]
    assert _evidence(top, "currency_differs").points == 0
    assert "no rate" in top.reason
    assert result.needs_person and result.auto_confirm is None
    without = match_transaction(_txn("100.00", "SO-007001", "USD"), INDEX)
    assert "no rate" in without.proposals[0].reason


def test_overpayment_says_by_how_much():
    result = match_transaction(_txn("100.00", "SO-007001", "EUR"), INDEX)
    top = result.proposals[0]
    overpaid = _evidence(top, "amount_overpaid")
    assert "overpaid by 7.41 EUR" in overpaid.detail
    assert "7.41 EUR too much" in top.reason
    assert top.needs_person
