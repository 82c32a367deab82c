from datetime import datetime, timedelta

import pytest

from shopaddons.mail_crm_shop.services.locking import (
    ACQUIRE,
    DENY,
    TAKEOVER,
    CaseLock,
    decide_lock,
    is_stale,
)

NOW = datetime(2026, 3, 2, 10, 0)
IDLE = timedelta(minutes=30)


def test_free_case_is_acquired():
    assert decide_lock(CaseLock(None, None), 7, NOW, IDLE) == ACQUIRE


def test_own_lock_is_refreshed():
    assert decide_lock(CaseLock(7, NOW - timedelta(minutes=5)), 7, NOW, IDLE) == ACQUIRE


def test_live_lock_of_another_is_denied():
    assert decide_lock(CaseLock(8, NOW - timedelta(minutes=29)), 7, NOW, IDLE) == DENY


def test_live_lock_of_another_may_be_taken_over_by_a_manager():
    lock = CaseLock(8, NOW - timedelta(minutes=1))
    assert decide_lock(lock, 7, NOW, IDLE, may_take_over=True) == TAKEOVER


def test_stale_lock_of_another_is_acquired():
    assert decide_lock(CaseLock(8, NOW - IDLE), 7, NOW, IDLE) == ACQUIRE


@pytest.mark.parametrize(
    ("lock", "idle", "expected"),
    [
        (CaseLock(None, None), IDLE, False),
        (CaseLock(8, NOW - timedelta(minutes=10)), IDLE, False),
        (CaseLock(8, NOW - timedelta(minutes=30)), IDLE, True),
        (CaseLock(8, None), IDLE, True),
        (CaseLock(8, NOW - timedelta(days=3)), timedelta(0), False),
    ],
)
def test_staleness(lock, idle, expected):
    assert is_stale(lock, NOW, idle) is expected
