"""The shop day's books count a planted exception only as a case of its own kind."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopaddons.shop_connector.services.order_checks import StockNeed, check_stock
from shopday import books, scenario

SHORTFALL = "<p>Stock shortfall: Rare vase: 3 Units ordered, only 1 Units in stock</p>"
# the reason each planted kind's case records, as books._case_facts reads it
CASE_OF_KIND = {
    "customer_note": {"code": "customer_note"},
    "packstation_bulky": {"code": "packstation_bulky"},
    "unknown_product": {"code": "unknown_product"},
    "totals_mismatch": {"code": "totals_mismatch"},
    "stock_shortfall": {"release_hold": True, "reason": SHORTFALL},
    "unpaid_prepayment": {"payment_overdue": True},
    "missing_confirmation": {"shipping_record": True},
    "bounced_invoice": {"bounce": True},
    "unhappy_review": {"review_reply": True},
}


def _case(owned=True, sla=True, **reason):
    return {"name": "[#1] case", "owned": owned, "sla_deadline": sla, "code": "", **reason}


def _order(kind, *cases):
    return {"number": f"#{kind}", "planted": kind, "cases": list(cases)}


def test_every_planted_kind_has_a_case_reason():
    assert set(CASE_OF_KIND) == set(scenario.EXCEPTION_KINDS)


@pytest.mark.parametrize(("kind", "reason"), sorted(CASE_OF_KIND.items()))
def test_case_kind_reads_the_reason_the_case_records(kind, reason):
    assert books.case_kind(_case(**reason)) == kind


@pytest.mark.parametrize(
    "reason",
    [
        {},  # a customer's own mail about the order
        {"code": "invalid_address"},  # an import exception of no planted kind
        {"release_hold": True, "reason": "<p>unknown payment method 'barter'</p>"},
        {"reason": SHORTFALL},  # the text alone, on a case that does not hold the order
    ],
)
def test_cases_of_no_planted_kind(reason):
    assert books.case_kind(_case(**reason)) is None


@pytest.mark.parametrize("kind", scenario.EXCEPTION_KINDS)
def test_a_case_of_the_planted_kind_counts(kind):
    rows = books._exceptions([_order(kind, _case(**CASE_OF_KIND[kind]))])
    assert rows[kind]["found"] == 1
    assert rows[kind]["missed"] == []


@pytest.mark.parametrize("kind", scenario.EXCEPTION_KINDS)
def test_an_owned_case_of_another_kind_does_not_count(kind):
    other = next(k for k in scenario.EXCEPTION_KINDS if k != kind)
    rows = books._exceptions([_order(kind, _case(**CASE_OF_KIND[other]), _case())])
    assert rows[kind]["planted"] == 1
    assert rows[kind]["found"] == 0
    assert rows[kind]["missed"] == [f"#{kind}"]
    assert rows[kind]["cases"] == []


@pytest.mark.parametrize(("owned", "sla"), [(False, True), (True, False)])
def test_a_case_of_the_kind_without_owner_or_deadline_does_not_count(owned, sla):
    kind = "missing_confirmation"
    unowned = _case(owned=owned, sla=sla, **CASE_OF_KIND[kind])
    # an owned case of another kind on the same order does not make up for it
    rows = books._exceptions([_order(kind, unowned, _case(code="customer_note"))])
    assert rows[kind]["found"] == 0


def test_the_stock_check_states_the_reason_the_books_look_for():
    shortfall = check_stock([StockNeed("Rare vase", Decimal(3), Decimal(1), "Units")])
    assert shortfall.code == "stock_shortfall"
    assert shortfall.message.startswith(books.STOCK_SHORTFALL_REASON)
