from datetime import datetime, timedelta

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.mail_crm_shop.services.retry import decide_retry

NOW = datetime(2026, 11, 2, 8, 0)


def test_permanent_error_fails_at_once():
    decision = decide_retry(PermanentError("bad XML"), 0, NOW)
    assert (decision.state, decision.attempt_count, decision.next_attempt_date) == (
        "failed",
        1,
        None,
    )


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, timedelta(minutes=5)), (1, timedelta(minutes=10)), (3, timedelta(minutes=40))],
)
def test_transient_error_backs_off_exponentially(attempts, delay):
    decision = decide_retry(TransientError("timeout"), attempts, NOW)
    assert decision.state == "error"
    assert decision.next_attempt_date == NOW + delay


def test_backoff_is_capped():
    decision = decide_retry(
        TransientError("timeout"), 3, NOW, max_attempts=50, max_delay=timedelta(minutes=30)
    )
    assert decision.next_attempt_date == NOW + timedelta(minutes=30)


def test_last_attempt_fails_for_a_person():
    decision = decide_retry(TransientError("timeout"), 4, NOW, max_attempts=5)
    assert decision.state == "failed"
    assert decision.attempt_count == 5
