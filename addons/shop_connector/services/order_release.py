"""When an imported shop order may ship: the release rule per payment method."""

from __future__ import annotations

from dataclasses import dataclass

PAY_FIRST = frozenset({"prepayment", "bank_transfer"})
PAID_AT_ONCE = frozenset({"paypal", "credit_card", "marketplace_paid", "cod"})
ON_ACCOUNT = frozenset({"invoice"})
PAYMENT_METHODS = PAY_FIRST | PAID_AT_ONCE | ON_ACCOUNT


@dataclass(frozen=True, slots=True)
class ReleaseDecision:
    """The release state an order enters, and why when a person is needed."""

    state: str  # waiting_payment | credit_check | released | exception
    reason: str = ""


def decide_release(payment_method: str | None) -> ReleaseDecision:
    """Return the first release state of an order paid with ``payment_method``.

    Prepayment and bank transfer wait for the money; PayPal, credit card, marketplace
    payments and cash on delivery ship at once; purchase on account needs a credit check.
    An unknown or missing method is an exception: a person decides.
    """
    if payment_method in PAY_FIRST:
        return ReleaseDecision("waiting_payment")
    if payment_method in PAID_AT_ONCE:
        return ReleaseDecision("released")
    if payment_method in ON_ACCOUNT:
        return ReleaseDecision("credit_check")
    return ReleaseDecision("exception", f"unknown payment method {payment_method!r}")


def decide_credit(open_amount: float, order_amount: float, credit_limit: float) -> ReleaseDecision:
    """Release an order on account unless it takes the customer over ``credit_limit``.

    A limit of zero or less means no limit is set: the order is released.
    """
    if credit_limit > 0 and open_amount + order_amount > credit_limit:
        return ReleaseDecision(
            "exception",
            f"credit limit {credit_limit:.2f} exceeded: open {open_amount:.2f} "
            f"+ order {order_amount:.2f}",
        )
    return ReleaseDecision("released")
