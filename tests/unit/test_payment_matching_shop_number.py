"""The shop's own order number ("#900000") as a reference of the order and its invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shopaddons.shop_connector.services.matching import match_transaction
from shopaddons.shop_connector.services.matching_index import CandidateIndex
from shopaddons.shop_connector.services.matching_types import POINTS, Candidate
from shopaddons.shop_connector.services.payments import BankTransaction

D = Decimal
DAY = date(2026, 3, 1)

SHOPIFY_ORDER = Candidate(
    "order",
    1,
    "S00012",
    shop_refs=("#900000",),
    partner_id=10,
    partner_names=("Hans Müller",),
    partner_emails=("hans@example.com",),
    amount_due=D("59.90"),
    date=DAY,
)
WOO_INVOICE = Candidate(
    "invoice",
    2,
    "S00013",
    invoice_number="INV/2026/00007",
    shop_refs=("WC-900001",),
    partner_id=11,
    partner_names=("Erika Mustermann",),
    amount_due=D("120.00"),
    date=DAY,
)
SHORT = Candidate(
    "order", 3, "S00014", shop_refs=("#12",), partner_id=12, amount_due=D("12.00"), date=DAY
)
INDEX = CandidateIndex([SHOPIFY_ORDER, WOO_INVOICE, SHORT])


def _txn(amount, purpose="", name="", email="", end_to_end=""):
    return BankTransaction(
        key=f"t:{purpose}:{amount}",
        account="shop@paypal.example.com",
        booking_date=date(2026, 3, 2),
        value_date=None,
        amount=D(amount),
        currency="EUR",
        counterparty_name=name,
        counterparty_email=email,
        purpose=purpose,
        end_to_end_id=end_to_end,
    )


@pytest.mark.parametrize(
    ("purpose", "cid", "rule"),
    [
        ("Bestellung #900000", 1, "reference_exact"),
        ("Bestellung 900000", 1, "reference_exact"),  # without '#'
        ("Bestellnr. 900 000", 1, "reference_exact"),  # split in two tokens
        ("WC-900001", 2, "reference_exact"),
        ("wc 900001", 2, "reference_exact"),
        ("Bestellung 900001", 2, "reference_mangled"),  # without the shop's prefix
        ("Bestellung 9OOOO1", 2, "reference_mangled"),  # O for 0
    ],
)
def test_shop_order_number_is_a_reference(purpose, cid, rule):
    found = INDEX.find_references(purpose)
    assert found[cid].rule == rule
    assert found[cid].points == POINTS[rule]
    assert "shop order number" in found[cid].detail or "looks like shop order" in found[cid].detail


@pytest.mark.parametrize("purpose", ["Bestellung 900002", "Bestellung #12", "12 Stück"])
def test_other_or_too_short_shop_numbers_are_no_reference(purpose):
    assert not INDEX.find_references(purpose)


def test_paypal_payment_naming_the_shop_number_auto_confirms():
    txn = _txn("59.90", "Bestellung #900000", "Hans Müller", "hans@example.com", "#900000")
    result = match_transaction(txn, INDEX)
    assert result.auto_confirm is not None
    assert result.auto_confirm.candidate_ids == (1,)
    rules = {e.rule for e in result.auto_confirm.evidence}
    assert {"reference_exact", "amount_equal", "payer_known"} <= rules


def test_invoice_paid_with_the_shop_number_auto_confirms():
    result = match_transaction(_txn("120.00", "Bestellung WC-900001"), INDEX)
    assert result.auto_confirm is not None
    assert result.auto_confirm.candidate_ids == (2,)


def test_shop_number_with_a_wrong_amount_needs_a_person():
    result = match_transaction(_txn("50.00", "Bestellung #900000", "Hans Müller"), INDEX)
    assert result.auto_confirm is None
    assert result.proposals[0].candidate_ids == (1,)
    assert result.needs_person


def test_same_shop_number_in_two_shops_is_not_confirmed_blindly():
    twin = Candidate(
        "order", 4, "S00015", shop_refs=("900000",), partner_id=13, amount_due=D("59.90"), date=DAY
    )
    index = CandidateIndex([SHOPIFY_ORDER, twin])
    result = match_transaction(_txn("59.90", "Bestellung 900000"), index)
    assert result.auto_confirm is None
    assert {p.candidate_ids for p in result.proposals} == {(1,), (4,)}


def test_shop_refs_given_twice_are_indexed_once():
    cand = Candidate("order", 1, "S1", shop_refs=("#900000", "900000"), amount_due=D(1))
    index = CandidateIndex([cand])
    assert index.exact["900000"] == [(1, "shop order")]
