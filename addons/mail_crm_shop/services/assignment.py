"""Who gets a new case of a queue: round robin or the member with the fewest open cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MODES = ("manual", "round_robin", "least_open")


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What the decision needs to know about a queue at the moment a case arrives."""

    mode: str
    member_ids: tuple[int, ...]
    open_counts: Mapping[int, int]
    last_assignee_id: int | None = None


def _rotation(member_ids: Sequence[int], last_assignee_id: int | None) -> list[int]:
    """Members in the order they are due: the one after the last assignee comes first."""
    members = sorted(set(member_ids))
    if last_assignee_id is None:
        return members
    after = [m for m in members if m > last_assignee_id]
    return after + [m for m in members if m <= last_assignee_id]


def choose_assignee(queue: QueueSnapshot) -> int | None:
    """Return the user id that gets the next case of ``queue``, or ``None`` (manual/no member).

    ``round_robin`` takes the member after the last assignee (ordered by id, wrapping
    around); ``least_open`` takes the member with the fewest open cases, ties broken by
    the round-robin order so equal members take turns.
    """
    if queue.mode not in MODES:
        raise ValueError(f"unknown assignment mode {queue.mode!r}")
    rotation = _rotation(queue.member_ids, queue.last_assignee_id)
    if queue.mode == "manual" or not rotation:
        return None
    if queue.mode == "round_robin":
        return rotation[0]
    position = {user_id: index for index, user_id in enumerate(rotation)}
    return min(rotation, key=lambda uid: (queue.open_counts.get(uid, 0), position[uid]))


def plan_assignments(queue: QueueSnapshot, case_count: int) -> list[int | None]:
    """Return the assignees of ``case_count`` cases arriving together, one after another.

    Each planned case counts as open for its assignee and becomes the last assignee, so a
    batch spreads exactly as the same cases arriving one by one would.
    """
    counts = dict(queue.open_counts)
    last = queue.last_assignee_id
    plan: list[int | None] = []
    for _index in range(case_count):
        user_id = choose_assignee(QueueSnapshot(queue.mode, queue.member_ids, counts, last))
        plan.append(user_id)
        if user_id is not None:
            counts[user_id] = counts.get(user_id, 0) + 1
            last = user_id
    return plan
