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


# --- benchmarks/order_import.py: options and the scale-out run's pure parts ---------------


def test_order_import_options_default_to_one_worker():
    from benchmarks.order_import import DB, parse_options

    args = parse_options([])
    assert (args.size, args.workers, args.db) == (1000, 1, DB)
    args = parse_options(["--orders", "200", "--workers", "2", "--db", "bench_b_1"])
    assert (args.size, args.workers, args.db) == (200, 2, "bench_b_1")


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_order_import_needs_at_least_one_worker(workers, capsys):
    from benchmarks.order_import import parse_options

    with pytest.raises(SystemExit):
        parse_options(["--workers", workers])
    assert "at least 1" in capsys.readouterr().err


def test_order_import_customer_tag_gives_customers_of_their_own():
    from benchmarks.order_import import make_orders

    plain = make_orders(60_000_000, 3)
    tagged = make_orders(60_000_000, 3, customer_tag="w2")
    assert [o["email"] for o in plain] == [f"kunde{n}@example.com" for n in range(3)]
    assert [o["email"] for o in tagged] == [f"kunde{n}.w2@example.com" for n in range(3)]
    assert [o["customer"]["email"] for o in tagged] == [o["email"] for o in tagged]
    assert [o["line_items"] for o in plain] == [o["line_items"] for o in tagged]


def _share(index, processed):
    from benchmarks.order_import import WorkerShare

    return WorkerShare(index, tuple(processed), done=len(processed), seconds=1.0)


def test_processings_count_an_import_two_workers_processed_twice():
    from benchmarks.order_import import processings

    assert processings([_share(1, [1, 3]), _share(2, [2, 4])]) == (4, 4)
    assert processings([_share(1, [1, 3]), _share(2, [2, 3])]) == (4, 3)


def _facts(**overrides):
    from benchmarks.order_import import ScaleOutFacts

    clean = dict.fromkeys(ScaleOutFacts.__slots__, 200)
    return ScaleOutFacts(**{**clean, **overrides})


def test_scaleout_facts_of_a_clean_run_all_hold():
    checks = _facts().checks()
    assert len(checks) == 6
    assert all(holds for _fact, holds in checks)


@pytest.mark.parametrize(
    ("overrides", "failed"),
    [
        ({"imports_done": 199}, "every import done"),
        ({"processings": 201}, "processed once"),
        ({"known_refs": 199}, "one sale order per import"),
        ({"distinct_refs": 199}, "one sale order per import"),
        ({"distinct_linked": 199}, "linked to its own sale order"),
        ({"confirmed_one_delivery": 199}, "exactly one delivery"),
        ({"customers": 201}, "one customer per e-mail"),
    ],
)
def test_scaleout_facts_flag_each_broken_fact(overrides, failed):
    broken = [fact for fact, holds in _facts(**overrides).checks() if not holds]
    assert len(broken) == 1
    assert failed in broken[0]


def test_worker_share_line_says_what_another_worker_took():
    from benchmarks.order_import import WorkerShare

    share = WorkerShare(
        2,
        (5, 6),
        done=2,
        seconds=3.0,
        calls=2,
        idle_calls=1,
        lock_attempts=5,
        errors=("SerializationFailure: could not serialize access",),
    )
    line = share.line()
    assert line.startswith("worker 2: 2 orders (2 done) in 3.0 s, 2 cron calls (1 with")
    assert "5 lock attempts (3 taken by another worker" in line
    assert "1 failed calls" in line and "SerializationFailure" in line


def test_scaleout_facts_flag_a_duplicated_sale_order():
    broken = [fact for fact, holds in _facts(sale_orders=201).checks() if not holds]
    assert any("one sale order per import" in fact for fact in broken)
