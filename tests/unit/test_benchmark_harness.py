import io
import json

import pytest

from benchmarks.harness import Result, parse_args, report, stopwatch


@pytest.mark.parametrize(
    ("higher", "ours", "peer", "ratio"), [(True, 50.0, 10.0, 5.0), (False, 0.5, 10.0, 20.0)]
)
def test_ratio_says_how_many_times_better_ours_is(higher, ours, peer, ratio):
    result = Result("f", "u", ours, peer, target=5, size=10, higher_is_better=higher)
    assert result.ratio == ratio


def test_report_ends_with_the_json_line():
    out = io.StringIO()
    report(Result("mail_ingest", "mails/s", 100.0, 10.0, target=5, size=2000), out)
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last == {
        "figure": "mail_ingest",
        "unit": "mails/s",
        "ours": 100.0,
        "peer": 10.0,
        "ratio": 10.0,
        "target": 5,
        "size": 2000,
    }
    assert "meets target" in out.getvalue()


def test_default_size_and_override():
    assert parse_args(1000, argv=[]).size == 1000
    assert parse_args(1000, argv=["--size", "7"]).size == 7


def test_stopwatch_freezes_at_exit():
    with stopwatch() as elapsed:
        pass
    assert elapsed() == elapsed() >= 0
