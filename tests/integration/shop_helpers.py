"""Helpers for the shop adapter tests: sample payloads from tests/data/shops."""

import copy
import json

import pytest

from ..conftest import DATA_DIR

SHOPS_DIR = DATA_DIR / "shops"


def load_sample(platform: str, name: str = "order.json"):
    """A documented sample payload of ``platform``."""
    return json.loads((SHOPS_DIR / platform / name).read_text(encoding="utf-8"))


def variants(order: dict, count: int, start: int, id_key: str = "id", **stamps):
    """``count`` copies of ``order`` with ids ``start..`` and the given keys set per copy.

    ``stamps`` maps a key to a format string taking the copy's 1-based position ``n``,
    e.g. ``updated_at="2024-07-01T10:{n:02d}:00Z"``.
    """
    copies = []
    for n, index in enumerate(range(start, start + count), start=1):
        item = copy.deepcopy(order)
        item[id_key] = index if isinstance(order[id_key], int) else str(index)
        for key, pattern in stamps.items():
            item[key] = pattern.format(n=n)
        copies.append(item)
    return copies


class Sleeps(list):
    """A ``sleep`` that records instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture(autouse=True)
def strict_httpserver(httpserver):
    """Fail a test whose client sent a request no handler expected."""
    yield httpserver
    httpserver.check_assertions()
