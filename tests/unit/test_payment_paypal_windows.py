"""PayPal import windows and transaction mapping (the pure parts of the adapter)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.paypal import PayPalSettings, map_transaction, plan_windows

UTC = timezone.utc
SETTINGS = PayPalSettings("id", "secret")
CURSOR = datetime(2026, 1, 1, tzinfo=UTC)


def test_windows_cover_everything_with_overlap_and_at_most_31_days():
    now = CURSOR + timedelta(days=100)
    windows = list(plan_windows(CURSOR, now, SETTINGS))
    assert windows[0][0] == CURSOR - timedelta(hours=3)
    assert windows[-1][1] == now
    assert all(end - start <= timedelta(days=31) for start, end in windows)
    for (_s1, end), (start, _e2) in pairwise(windows):
        assert end - start == timedelta(hours=3)
    assert len(windows) == 4


def test_a_run_right_after_the_last_one_refetches_the_overlap():
    assert list(plan_windows(CURSOR, CURSOR, SETTINGS)) == [(CURSOR - timedelta(hours=3), CURSOR)]


def test_naive_datetimes_are_utc():
    naive = list(plan_windows(CURSOR.replace(tzinfo=None), CURSOR.replace(tzinfo=None), SETTINGS))
    assert naive == list(plan_windows(CURSOR, CURSOR, SETTINGS))


def test_windows_longer_than_paypal_allows_are_refused():
    with pytest.raises(PermanentError, match="31 days"):
        list(plan_windows(CURSOR, CURSOR, PayPalSettings("i", "s", window=timedelta(days=32))))


def _detail(**info):
    base = {
        "transaction_id": "5TY05013RG002845M",
        "transaction_event_code": "T0006",
        "transaction_initiation_date": "2026-03-01T23:30:00+0000",
        "transaction_amount": {"currency_code": "EUR", "value": "10.00"},
        "transaction_status": "S",
    }
    return {"transaction_info": {**base, **info}, "payer_info": {}}


@pytest.mark.parametrize("status", ["P", "D"])
def test_pending_and_denied_are_reported_not_booked(status):
    moved, skipped = map_transaction(_detail(transaction_status=status), "paypal")
    assert moved == []
    assert skipped == [("paypal:5TY05013RG002845M:T0006", "pending" if status == "P" else "denied")]


def test_booking_date_is_the_utc_day():
    (txn,), _ = map_transaction(
        _detail(transaction_initiation_date="2026-03-01T23:30:00-0200"), "paypal"
    )
    assert txn.booking_date.isoformat() == "2026-03-02"


@pytest.mark.parametrize(
    "info",
    [
        {"transaction_id": ""},
        {"transaction_amount": None},
        {"transaction_amount": {"value": "x", "currency_code": "EUR"}},
        {"transaction_initiation_date": "yesterday"},
    ],
)
def test_malformed_items_are_permanent_errors(info):
    with pytest.raises(PermanentError):
        map_transaction(_detail(**info), "paypal")
