from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.sla import (
    SlaTargets,
    add_business_hours,
    compute_deadlines,
    elapsed_hours,
    is_breached,
)


def office_hours(first_day: datetime, days: int):
    """Mon-Fri 8:00-12:00 and 13:00-17:00 from ``first_day`` on (naive, like UTC)."""
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day.weekday() < 5:
            yield (day.replace(hour=8), day.replace(hour=12))
            yield (day.replace(hour=13), day.replace(hour=17))


FRIDAY = datetime(2026, 3, 6)
WEEK = tuple(office_hours(FRIDAY, 14))


def test_hours_within_the_same_interval():
    assert add_business_hours(FRIDAY.replace(hour=9), 2, WEEK) == FRIDAY.replace(hour=11)


def test_lunch_break_does_not_count():
    assert add_business_hours(FRIDAY.replace(hour=11), 2, WEEK) == FRIDAY.replace(hour=14)


def test_friday_afternoon_rolls_over_the_weekend():
    monday = datetime(2026, 3, 9)
    assert add_business_hours(FRIDAY.replace(hour=16), 4, WEEK) == monday.replace(hour=11)


def test_start_on_saturday_begins_on_monday_morning():
    saturday = datetime(2026, 3, 7, 10)
    assert add_business_hours(saturday, 1, WEEK) == datetime(2026, 3, 9, 9)


def test_start_at_night_begins_next_morning():
    thursday_night = datetime(2026, 3, 5, 22)
    assert add_business_hours(thursday_night, 8, WEEK) == FRIDAY.replace(hour=17)


def test_unsorted_overlapping_intervals_count_once():
    day = FRIDAY
    intervals = [
        (day.replace(hour=10), day.replace(hour=12)),
        (day.replace(hour=8), day.replace(hour=11)),
    ]
    assert add_business_hours(day.replace(hour=8), 4, intervals) == day.replace(hour=12)


def test_too_short_horizon_returns_none():
    assert add_business_hours(FRIDAY.replace(hour=9), 1000, WEEK) is None


def test_negative_hours_are_rejected():
    with pytest.raises(ValueError, match="negative"):
        add_business_hours(FRIDAY, -1, WEEK)


def test_marketplace_rule_counts_the_weekend():
    saturday_noon = datetime(2026, 3, 7, 12)
    deadlines = compute_deadlines(
        saturday_noon, SlaTargets(first_response_hours=24, calendar_hours=True), WEEK
    )
    assert deadlines.first_response == datetime(2026, 3, 8, 12)
    assert deadlines.resolution is None


def test_business_targets_use_the_intervals():
    deadlines = compute_deadlines(
        FRIDAY.replace(hour=16), SlaTargets(first_response_hours=4, resolution_hours=16), WEEK
    )
    assert deadlines.first_response == datetime(2026, 3, 9, 11)
    assert deadlines.resolution == datetime(2026, 3, 10, 16)  # 1 h Fri, 8 h Mon, 7 h Tue


def test_business_targets_without_enough_intervals_raise():
    with pytest.raises(ValueError, match="business hours"):
        compute_deadlines(FRIDAY, SlaTargets(first_response_hours=8), ())


@pytest.mark.parametrize(
    ("met_at", "now", "expected"),
    [
        (None, datetime(2026, 3, 6, 9), False),
        (None, datetime(2026, 3, 6, 11), True),
        (datetime(2026, 3, 6, 9), datetime(2026, 3, 9), False),
        (datetime(2026, 3, 6, 10, 1), datetime(2026, 3, 9), True),
    ],
)
def test_breach(met_at, now, expected):
    assert is_breached(datetime(2026, 3, 6, 10), met_at, now) is expected


def test_no_deadline_is_never_breached():
    assert not is_breached(None, None, datetime(2030, 1, 1))


def test_elapsed_hours():
    assert elapsed_hours(FRIDAY, FRIDAY + timedelta(hours=1, minutes=30)) == 1.5


@given(
    start_offset=st.integers(min_value=0, max_value=7 * 24 * 60),
    hours=st.floats(min_value=0, max_value=40, allow_nan=False),
)
def test_business_hours_deadline_counts_exactly_the_requested_work(start_offset, hours):
    start = FRIDAY + timedelta(minutes=start_offset)
    deadline = add_business_hours(start, hours, WEEK)
    worked = sum(
        (
            min(end, deadline) - max(begin, start)
            for begin, end in WEEK
            if min(end, deadline) > max(begin, start)
        ),
        timedelta(0),
    )
    assert abs(worked - timedelta(hours=hours)) < timedelta(microseconds=10)
    assert deadline >= start
