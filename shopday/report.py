"""The shop day's report: targets, books and charts, as text and as one HTML file.

Pure: takes the books (:func:`shopday.books.read_books`) and the day's log as plain
data; the charts are drawn with matplotlib (Agg) and embedded as SVG.
"""

from __future__ import annotations

import html
import io
import statistics
from collections import Counter

from .books import STAGES, missed

TARGET_UNTOUCHED = 0.95


def evaluate(books: dict) -> dict:
    """The four targets of the day and whether each is met."""
    orders = books["orders"]
    clean = [o for o in orders if not o["planted"]]
    untouched = [o for o in orders if o["untouched"]]
    clean_untouched = [o for o in clean if o["untouched"]]
    planted = sum(e["planted"] for e in books["exceptions"].values())
    found = sum(e["found"] for e in books["exceptions"].values())
    share = len(clean_untouched) / len(clean) if clean else 1.0
    return {
        "orders": len(orders),
        "clean_orders": len(clean),
        "untouched": len(untouched),
        "untouched_clean": len(clean_untouched),
        "untouched_share_clean": share,
        "untouched_share_all": len(untouched) / len(orders) if orders else 1.0,
        "planted": planted,
        "found": found,
        "lost": books["lost"]["total"],
        "doubled": books["doubled"]["total"],
        "targets": {
            "untouched >= 95 %": share >= TARGET_UNTOUCHED,
            "100 % of planted exceptions as owned cases with SLA": found == planted,
            "0 lost": books["lost"]["total"] == 0,
            "0 doubled": books["doubled"]["total"] == 0,
        },
    }


def stage_times(books: dict) -> dict[str, dict[str, float]]:
    """Median and 95th percentile seconds from the order to each stage."""
    result = {}
    for stage in STAGES:
        values = sorted(
            o["stage_seconds"][stage]
            for o in books["orders"]
            if o["stage_seconds"].get(stage) is not None
        )
        if not values:
            continue
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        result[stage] = {"n": len(values), "median": statistics.median(values), "p95": p95}
    return result


def missing_stages(books: dict) -> Counter:
    """How many clean orders missed each stage (why they were not untouched)."""
    missing = Counter()
    for order in books["orders"]:
        if order["planted"]:
            continue
        for stage, reached in order["stages"].items():
            if missed(reached):
                missing[stage] += 1
        if order["cases"]:
            missing["has a case"] += 1
    return missing


def text_report(books: dict, log: dict, notes: list[str]) -> str:
    verdict = evaluate(books)
    lines = ["", "SHOP DAY REPORT", "=" * 60]
    lines.append(
        f"orders: {verdict['orders']} ({verdict['clean_orders']} without planted exception), "
        f"day {log['day_seconds']:.0f} s in {log['ticks']} ticks, "
        f"throughput {_throughput(books, log):.1f} orders/min"
    )
    lines.append(
        f"untouched end to end: {verdict['untouched_clean']} of {verdict['clean_orders']} "
        f"clean orders ({verdict['untouched_share_clean']:.1%}); all orders "
        f"{verdict['untouched']} of {verdict['orders']} ({verdict['untouched_share_all']:.1%})"
    )
    lines.append("orders by channel: " + _pairs(Counter(o["platform"] for o in books["orders"])))
    missing = missing_stages(books)
    if missing:
        lines.append("  clean orders not untouched, by missing stage: " + _pairs(missing))
    not_applicable = Counter(
        stage for o in books["orders"] for stage, reached in o["stages"].items() if reached is None
    )
    if not_applicable:
        lines.append(
            "  stages not applicable (masked marketplace buyers, no e-mail): "
            + _pairs(not_applicable)
        )
    lines.append(
        f"exceptions found as owned cases with SLA: {verdict['found']} of {verdict['planted']}"
    )
    for kind, row in books["exceptions"].items():
        miss = f"  missed: {', '.join(row['missed'][:5])}" if row["missed"] else ""
        lines.append(f"  {kind:<22} {row['found']:>3} / {row['planted']:<3}{miss}")
    lines.append(f"lost: {verdict['lost']}  " + _pairs(_flat(books["lost"])))
    lines.append(f"doubled: {verdict['doubled']}  " + _pairs(books["doubled"]))
    lines.append("mails sent by status: " + _pairs(books["mails"]["by_status"]))
    if log.get("write_backs"):
        lines.append("orders reported shipped to their shop: " + _pairs(log["write_backs"]))
    lines.append("time from order to stage (median / p95 s):")
    for stage, row in stage_times(books).items():
        lines.append(f"  {stage:<16} {row['median']:>7.1f} / {row['p95']:>7.1f}  (n={row['n']})")
    why = Counter(o["why_unpaid"] for o in books["orders"] if not o["planted"] and o["why_unpaid"])
    if why:
        lines.append("clean orders not paid: " + "; ".join(f"{n} x {w}" for w, n in why.items()))
    if books["unexpected_cases"]:
        lines.append(f"cases on clean orders: {len(books['unexpected_cases'])}")
        for row in books["unexpected_cases"][:10]:
            lines.append(f"  {row['order']}: " + "; ".join(c["name"] for c in row["cases"]))
    cron = log["cron_seconds"]
    if cron:
        slowest = sorted(cron, key=cron.get, reverse=True)[:6]
        lines.append(
            "time per scheduled action (s, all runs): "
            + ", ".join(f"{name.split('.', 1)[-1]} {cron[name]:.0f}" for name in slowest)
        )
    lines.append(
        f"set-up: install {log['install_seconds']:.0f} s, configuration"
        f" {log['setup_seconds']:.0f} s"
    )
    if log.get("api_errors"):
        lines.append("shop/marketplace/PayPal API errors: " + "; ".join(log["api_errors"][:10]))
    if log["cron_failures"]:
        lines.append("scheduled action failures: " + "; ".join(log["cron_failures"][:10]))
    lines.append("targets:")
    for target, met in verdict["targets"].items():
        lines.append(f"  [{'met' if met else 'MISSED'}] {target}")
    if notes:
        lines.append("notes:")
        lines += [f"  - {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _flat(lost: dict) -> dict:
    return {k: (len(v) if isinstance(v, list) else v) for k, v in lost.items() if k != "total"}


def _pairs(counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in dict(counter).items())


def _throughput(books: dict, log: dict) -> float:
    done = sum(1 for o in books["orders"] if o["stages"]["shipped"])
    return done / (log["day_seconds"] / 60) if log["day_seconds"] else 0.0


# --- HTML --------------------------------------------------------------------------------


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def charts(books: dict, log: dict) -> list[tuple[str, str]]:
    """(title, svg) of each chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = []
    orders = books["orders"]
    reached = [sum(1 for o in orders if o["stages"][s]) for s in STAGES]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(STAGES, reached, color="#4c72b0")
    ax.axhline(len(orders), color="grey", linestyle="--", linewidth=1)
    ax.set_ylabel("orders")
    ax.set_title("Orders reaching each stage")
    result.append(("Orders by stage", _svg(fig)))

    kinds = list(books["exceptions"])
    fig, ax = plt.subplots(figsize=(7, 3))
    xs = range(len(kinds))
    ax.bar(
        [x - 0.2 for x in xs],
        [books["exceptions"][k]["planted"] for k in kinds],
        0.4,
        label="planted",
    )
    ax.bar(
        [x + 0.2 for x in xs], [books["exceptions"][k]["found"] for k in kinds], 0.4, label="found"
    )
    ax.set_xticks(list(xs), kinds, rotation=35, ha="right")
    ax.legend()
    ax.set_title("Exceptions: planted vs owned cases with SLA")
    result.append(("Exceptions", _svg(fig)))

    by_status = books["mails"]["by_status"]
    if by_status:
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.bar(list(by_status), list(by_status.values()), color="#55a868")
        ax.set_title("Mails sent by delivery status")
        result.append(("Mails", _svg(fig)))

    times = stage_times(books)
    if times:
        fig, ax = plt.subplots(figsize=(7, 3))
        names = list(times)
        ax.barh(names, [times[n]["median"] for n in names], label="median")
        ax.barh(
            names,
            [times[n]["p95"] - times[n]["median"] for n in names],
            left=[times[n]["median"] for n in names],
            alpha=0.4,
            label="to p95",
        )
        ax.set_xlabel("seconds after the order")
        ax.legend()
        ax.set_title("Time per stage")
        result.append(("Time per stage", _svg(fig)))

    cron = log["cron_seconds"]
    if cron:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        names = sorted(cron, key=cron.get)
        ax.barh([n.split(".", 1)[-1] for n in names], [cron[n] for n in names], color="#c44e52")
        ax.set_xlabel("seconds")
        ax.set_title("Time spent per scheduled action")
        result.append(("Scheduled actions", _svg(fig)))
    return result


def html_report(books: dict, log: dict, notes: list[str]) -> str:
    verdict = evaluate(books)
    text = text_report(books, log, notes)
    rows = "".join(
        f"<tr><td>{html.escape(t)}</td><td class='{'ok' if met else 'bad'}'>"
        f"{'met' if met else 'MISSED'}</td></tr>"
        for t, met in verdict["targets"].items()
    )
    figures = "".join(
        f"<section><h2>{html.escape(title)}</h2>{svg}</section>"
        for title, svg in charts(books, log)
    )
    order_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                o["number"],
                o["platform"],
                o["payment"],
                o["carrier"],
                o["planted"] or "",
                o["sale_order"],
                " ".join(s for s in STAGES if missed(o["stages"][s])) or "-",
                "; ".join(c["name"] for c in o["cases"]),
            )
        )
        + "</tr>"
        for o in books["orders"]
        if not o["untouched"]
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Shop day report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}table{{border-collapse:collapse}}
.ok{{color:#2a7}}.bad{{color:#c22;font-weight:bold}}pre{{background:#f6f6f6;padding:1em}}
section{{display:inline-block;vertical-align:top;margin:0 1em 1em 0}}</style></head>
<body><h1>Shop day report</h1>
<table><tr><th>target</th><th>result</th></tr>{rows}</table>
{figures}
<h2>Summary</h2><pre>{html.escape(text)}</pre>
<h2>Orders that needed a person or did not finish</h2>
<table><tr><th>order</th><th>platform</th><th>payment</th><th>carrier</th><th>planted</th>
<th>sale order</th><th>missing stages</th><th>cases</th></tr>{order_rows}</table>
</body></html>
"""
