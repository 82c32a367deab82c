"""The unique-key rule of money movements: stable, documented, unique."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.shop_connector.services.payments import (
    BankTransaction,
    bank_key,
    disambiguate_keys,
    paypal_key,
)

DAY = date(2026, 3, 2)


def test_paypal_keys():
    assert paypal_key("5TY05013RG002845M", "T0006") == "paypal:5TY05013RG002845M:T0006"
    assert paypal_key("5TY05013RG002845M", "T0006", "fee") == "paypal:5TY05013RG002845M:T0006:fee"
    with pytest.raises(ValueError, match="event code"):
        paypal_key("5TY05013RG002845M", "")


def test_bank_key_with_entry_reference():
    assert bank_key("DE02 1203", "REF1", DAY, Decimal("1"), "EUR") == "bank:DE021203:REF1"
    assert bank_key("DE021203", "REF1", DAY, Decimal("1"), "EUR", position=2) == (
        "bank:DE021203:REF1/2"
    )


def test_hashed_key_is_pinned():
    """Changing the rule would duplicate every re-imported statement: pin one value."""
    key = bank_key("DE021203", "", DAY, Decimal("119.9"), "eur", "Hans  Müller", "", "SO 1")
    assert key == bank_key("DE021203", "", DAY, Decimal("119.90"), "EUR", "HANS MÜLLER", "", "so 1")
    documented = hashlib.sha256("DE021203|2026-03-02|119.90|EUR|HANS MÜLLER||SO 1".encode())
    assert key == f"bank:DE021203:sha256:{documented.hexdigest()}"
    assert key == (
        "bank:DE021203:sha256:f956113f4af0a1ccae0d77505d01781fce4fa6121058863925489c9492a24477"
    )


@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
    st.text(max_size=30),
    st.text(max_size=60),
)
def test_hashed_key_differs_when_a_field_differs(amount, name, purpose):
    base = bank_key("DE1", "", DAY, amount, "EUR", name, "", purpose)
    assert base == bank_key("DE1", "", DAY, amount, "EUR", name, "", purpose)
    assert base != bank_key("DE1", "", DAY, amount + Decimal("0.01"), "EUR", name, "", purpose)
    assert base != bank_key("DE1", "", date(2026, 3, 3), amount, "EUR", name, "", purpose)
    assert base != bank_key("DE1", "", DAY, amount, "EUR", name, "", purpose + " x")


def test_disambiguate_keys():
    assert disambiguate_keys(["a", "b", "a", "a"]) == ["a", "b", "a#2", "a#3"]


def test_transaction_validates_kind_and_amount():
    with pytest.raises(ValueError, match="kind"):
        BankTransaction("k", "A", DAY, None, Decimal(1), "EUR", kind="gift")
    with pytest.raises(TypeError, match="Decimal"):
        BankTransaction("k", "A", DAY, None, 1.0, "EUR")
