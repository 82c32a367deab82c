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


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [
        (3600, timedelta(hours=1)),  # asked for longer than the backoff: honoured
        (60, timedelta(minutes=5)),  # shorter than the backoff: the backoff stays
        (None, timedelta(minutes=5)),
        (0, timedelta(minutes=5)),
        (10 * 365 * 86400, timedelta(hours=12)),  # a wrong header: bounded by max_delay
    ],
)
def test_retry_is_never_before_the_wait_the_other_side_asked_for(retry_after, delay):
    error = TransientError("HTTP 429", retry_after=retry_after)
    decision = decide_retry(error, 0, NOW)
    assert decision.state == "error"
    assert decision.next_attempt_date == NOW + delay


def test_a_permanent_error_fails_whatever_wait_it_names():
    error = PermanentError("HTTP 400")
    error.retry_after = 3600
    assert decide_retry(error, 0, NOW).state == "failed"
