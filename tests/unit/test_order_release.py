import pytest

from shopaddons.shop_connector.services.order_release import decide_credit, decide_release


@pytest.mark.parametrize(
    ("method", "state"),
    [
        ("prepayment", "waiting_payment"),
        ("bank_transfer", "waiting_payment"),
        ("paypal", "released"),
        ("credit_card", "released"),
        ("marketplace_paid", "released"),
        ("cod", "released"),
        ("invoice", "credit_check"),
    ],
)
def test_release_rule_per_payment_method(method, state):
    assert decide_release(method).state == state


@pytest.mark.parametrize("method", [None, "", "bitcoin", "PayPal"])
def test_unknown_payment_method_needs_a_person(method):
    decision = decide_release(method)
    assert decision.state == "exception"
    assert repr(method) in decision.reason


@pytest.mark.parametrize(
    ("open_amount", "order_amount", "limit", "state"),
    [
        (0.0, 100.0, 0.0, "released"),  # no limit set
        (0.0, 100.0, -5.0, "released"),
        (50.0, 50.0, 100.0, "released"),  # exactly at the limit
        (50.0, 50.01, 100.0, "exception"),
        (120.0, 1.0, 100.0, "exception"),  # already over before this order
    ],
)
def test_credit_check(open_amount, order_amount, limit, state):
    decision = decide_credit(open_amount, order_amount, limit)
    assert decision.state == state
    assert ("credit limit" in decision.reason) == (state == "exception")
