"""Money movements from PayPal, bank statements (CAMT.053) and bank CSV exports.

Every importer turns its source into :class:`BankTransaction` values with a stable
``key``; the Odoo glue stores one record per key (a unique index), so re-importing a file
or an overlapping PayPal window never books a payment twice.

Key rule (documented, stable; changing it would duplicate every re-imported transaction):

* PayPal: ``paypal:<transaction id>:<event code>``; the fee charged on it is a transaction
  of its own, ``paypal:<transaction id>:<event code>:fee``; a currency conversion (both
  legs share one id and code) adds its currency: ``paypal:<id>:T0200:<currency>``.
* Bank with an entry reference from the bank (CAMT ``AcctSvcrRef``, a CSV column):
  ``bank:<account>:<entry reference>``; the transactions of a batch entry add their
  position in the entry: ``bank:<account>:<entry reference>/<n>`` (n from 1).
* Bank without an entry reference: ``bank:<account>:sha256:<hex>`` over account, booking
  date, amount (two decimals), currency, counterparty name, IBAN and purpose, each
  whitespace-collapsed and upper-cased, joined with ``|``. Two identical lines in one
  file (two equal card payments on one day) get ``#2``, ``#3``… appended in file order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

KINDS = ("payment", "fee", "refund", "reversal", "conversion", "transfer")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class BankTransaction:
    """One money movement on a bank or PayPal account.

    ``amount`` is negative for money going out (refunds, fees, payouts). ``kind`` is one
    of :data:`KINDS`; ``related_key`` links a fee, refund or reversal to the movement it
    belongs to (for PayPal the key prefix ``paypal:<original transaction id>``).
    ``raw`` keeps the source text of the movement (JSON or XML) for people and audits.
    """

    key: str
    account: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str = ""
    counterparty_iban: str = ""
    counterparty_email: str = ""
    purpose: str = ""
    end_to_end_id: str = ""
    entry_reference: str = ""
    kind: str = "payment"
    related_key: str = ""
    raw: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown transaction kind {self.kind!r}")
        if not isinstance(self.amount, Decimal):
            raise TypeError("amount must be a Decimal")


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).upper()


def paypal_key(transaction_id: str, event_code: str, suffix: str = "") -> str:
    """Key of a PayPal movement (``suffix`` = ``"fee"`` or a conversion's currency)."""
    if not transaction_id or not event_code:
        raise ValueError("a PayPal key needs a transaction id and an event code")
    key = f"paypal:{transaction_id}:{event_code}"
    return f"{key}:{suffix}" if suffix else key


def bank_key(
    account: str,
    entry_reference: str,
    booking_date: date,
    amount: Decimal,
    currency: str,
    counterparty_name: str = "",
    counterparty_iban: str = "",
    purpose: str = "",
    position: int = 0,
) -> str:
    """Key of a bank movement: the bank's entry reference if any, else a SHA-256.

    ``position`` (1, 2, …) tells the transactions of one batch entry apart; 0 for a
    single one. See the module docstring for the exact rule.
    """
    account = _norm(account).replace(" ", "")
    if entry_reference.strip():
        key = f"bank:{account}:{entry_reference.strip()}"
        return f"{key}/{position}" if position else key
    fields = (
        account,
        booking_date.isoformat(),
        str(amount.quantize(CENT)),
        _norm(currency),
        _norm(counterparty_name),
        _norm(counterparty_iban).replace(" ", ""),
        _norm(purpose),
    )
    digest = hashlib.sha256("|".join(fields).encode("utf-8")).hexdigest()
    return f"bank:{account}:sha256:{digest}"


def disambiguate_keys(keys: list[str]) -> list[str]:
    """Append ``#2``, ``#3``… to repeated keys, in order, so one file's keys are unique."""
    seen: dict[str, int] = {}
    result = []
    for key in keys:
        count = seen.get(key, 0) + 1
        seen[key] = count
        result.append(key if count == 1 else f"{key}#{count}")
    return result
