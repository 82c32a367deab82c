"""Shop and marketplace order numbers in the purpose a customer types right after ordering:
"Bestellung <shop number> <our number, often still empty> <name>"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shopaddons.shop_connector.services.matching import match_transaction
from shopaddons.shop_connector.services.matching_index import CandidateIndex
from shopaddons.shop_connector.services.matching_types import Candidate
from shopaddons.shop_connector.services.payments import BankTransaction

D = Decimal
DAY = date(2026, 3, 1)


def _order(cid, shop_ref, reference="S00045", amount="59.90"):
    return Candidate(
        "order",
        cid,
        reference,
        shop_refs=(shop_ref,),
        partner_id=cid,
        partner_names=("Anna Schmidt",),
        amount_due=D(amount),
        date=DAY,
    )


def _txn(purpose, amount="59.90"):
    return BankTransaction(
        key=f"bank:T:{purpose}",
        account="DE02500105170137075030",
        booking_date=date(2026, 3, 2),
        value_date=None,
        amount=D(amount),
        currency="EUR",
        counterparty_name="Anna Schmidt",
        purpose=purpose,
    )


@pytest.mark.parametrize(
    ("shop_ref", "purpose"),
    [
        ("#1001", "Bestellung #1001  Anna Schmidt"),  # Shopify, our number not known yet
        ("#1001", "Bestellung 1001 S00045 Anna Schmidt"),
        ("302-1234567-1234567", "Bestellung 302-1234567-1234567  Anna Schmidt"),  # Amazon
        ("302-1234567-1234567", "Bestellung 30212345671234567  Anna Schmidt"),
        ("302-1234567-1234567", "Bestellung 302 1234567 1234567  Anna Schmidt"),
        ("12-34567-89012", "Bestellung 12-34567-89012  Anna Schmidt"),  # eBay
        ("12-34567-89012", "Bestellung 123456789012  Anna Schmidt"),
        ("900123", "Bestellnr.900123/Anna Schmidt"),  # WooCommerce, Gambio
        ("WC-900123", "Bestellung wc-900123  Anna Schmidt"),
    ],
)
def test_the_shop_number_alone_confirms_the_payment(shop_ref, purpose):
    # another open order of the same name and amount: only the number tells them apart
    index = CandidateIndex([_order(1, shop_ref), _order(2, "#900999", reference="S00046")])
    result = match_transaction(_txn(purpose), index)
    assert result.auto_confirm is not None, result.reason
    assert result.auto_confirm.candidate_ids == (1,)
    rules = {e.rule for e in result.auto_confirm.evidence}
    assert {"reference_exact", "amount_equal"} <= rules


def test_without_the_order_the_same_name_and_amount_is_only_a_proposal():
    """Paid before the order was imported: another order of the same name and amount is
    proposed, never confirmed (no reference); the payment is matched again later."""
    index = CandidateIndex([_order(2, "#900999", reference="S00046")])
    result = match_transaction(_txn("Bestellung #1001  Anna Schmidt"), index)
    assert result.auto_confirm is None
    assert [p.candidate_ids for p in result.proposals] == [(2,)]
    assert not result.proposals[0].has_reference
