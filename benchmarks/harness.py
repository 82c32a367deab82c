"""Shared harness of the benchmarks: one figure per script, ours against a peer.

Every script runs with no arguments at its default size (``--size N`` for others),
measures ours and the peer in the same run and ends its output with one JSON line::

    {"figure": ..., "unit": ..., "ours": x, "peer": y, "ratio": r, "target": t, "size": n}

``ratio`` is how many times better ours is than the peer: ``ours / peer`` for figures
where higher is better (rates), ``peer / ours`` where lower is better (durations).
Benchmarks are never part of the test command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure."""

    figure: str
    unit: str
    ours: float
    peer: float
    target: float
    size: int
    higher_is_better: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        if self.higher_is_better:
            return self.ours / self.peer if self.peer else float("inf")
        return self.peer / self.ours if self.ours else float("inf")

    def as_json(self) -> str:
        return json.dumps(
            {
                "figure": self.figure,
                "unit": self.unit,
                "ours": round(self.ours, 6),
                "peer": round(self.peer, 6),
                "ratio": round(self.ratio, 3),
                "target": self.target,
                "size": self.size,
                **self.extra,
            }
        )


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...; elapsed()`` gives seconds (monotonic clock)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def parse_args(default_size: int, description: str = "", argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", type=int, default=default_size, help="problem size")
    return parser.parse_args(argv)


def report(result: Result, out=sys.stdout) -> None:
    """Print a readable summary, then the JSON line that ends every benchmark's output."""
    verdict = "meets" if result.ratio >= result.target else "MISSES"
    print(
        f"{result.figure}: ours {result.ours:.4g} {result.unit}, peer {result.peer:.4g} "
        f"{result.unit}, ratio {result.ratio:.2f} ({verdict} target {result.target})",
        file=out,
    )
    print(result.as_json(), file=out, flush=True)
