import pytest

from shopaddons.mail_crm_shop.services.assignment import (
    QueueSnapshot,
    choose_assignee,
    plan_assignments,
)


def test_manual_mode_assigns_nobody():
    assert choose_assignee(QueueSnapshot("manual", (1, 2), {})) is None


@pytest.mark.parametrize("mode", ["round_robin", "least_open"])
def test_queue_without_members_assigns_nobody(mode):
    assert choose_assignee(QueueSnapshot(mode, (), {})) is None


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown assignment mode"):
        choose_assignee(QueueSnapshot("random", (1,), {}))


@pytest.mark.parametrize(
    ("last", "expected"),
    [(None, 3), (3, 7), (7, 9), (9, 3), (5, 7), (100, 3)],
)
def test_round_robin_takes_the_member_after_the_last_assignee(last, expected):
    assert choose_assignee(QueueSnapshot("round_robin", (9, 3, 7), {}, last)) == expected


def test_round_robin_ignores_open_counts():
    queue = QueueSnapshot("round_robin", (1, 2), {1: 0, 2: 50}, last_assignee_id=1)
    assert choose_assignee(queue) == 2


def test_least_open_takes_the_member_with_fewest_open_cases():
    queue = QueueSnapshot("least_open", (1, 2, 3), {1: 4, 2: 1, 3: 2}, last_assignee_id=2)
    assert choose_assignee(queue) == 2


def test_least_open_breaks_ties_in_round_robin_order():
    queue = QueueSnapshot("least_open", (1, 2, 3), {1: 1, 2: 1, 3: 1}, last_assignee_id=2)
    assert choose_assignee(queue) == 3


def test_least_open_counts_missing_members_as_zero():
    queue = QueueSnapshot("least_open", (1, 2), {1: 3})
    assert choose_assignee(queue) == 2


def test_batch_round_robin_wraps_around():
    assert plan_assignments(QueueSnapshot("round_robin", (1, 2, 3), {}, 2), 4) == [3, 1, 2, 3]


def test_batch_least_open_fills_the_emptiest_first():
    queue = QueueSnapshot("least_open", (1, 2), {1: 3, 2: 0})
    assert plan_assignments(queue, 5) == [2, 2, 2, 1, 2]


def test_batch_manual_plans_nobody():
    assert plan_assignments(QueueSnapshot("manual", (1,), {}), 2) == [None, None]
