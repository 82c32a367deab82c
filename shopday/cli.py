"""``scripts/shop-day``: set up a fresh database, run the simulated day, write the report."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = [
    "The day is compressed: each tick stands for a quarter of an hour, so the shops' import"
    " interval is over at every tick (their next import time is cleared before it).",
    "Review invitations go out 0 days after delivery (sales teams' setting) so the day"
    " covers them; customers are invited under the existing-customer exception.",
    "Automatic payment confirmation is switched on for both payment accounts (it is off by"
    " default: then every payment waits for a person).",
    "The night after the day is simulated by moving the clock on by two days for the jobs"
    " that wait for deadlines (overdue prepayments, missing carrier confirmations, SLA).",
    "PayPal captures a payment when the shop reports the parcel shipped (authorise at"
    " checkout, capture at fulfilment); the PayPal transaction names the shop's order number.",
    "The bank statements (CAMT.053) are uploaded by the bookkeeper through the import"
    " wizard; customers who pay by transfer quote what the shop's mails told them.",
    "Orders come from two shops and a marketplace, 40/30/30: Shopify, WooCommerce and eBay"
    " (Sell Fulfillment API and its OAuth token endpoint on the local server; the backend's"
    " token URL points there). eBay orders are paid at eBay and released at once; their"
    " shipments are written back as eBay shipping fulfillments.",
    "eBay buyers have masked relay addresses, which the connector does not store on the"
    " customer: the shop cannot mail them, so 'mailed' and 'review invited' do not apply to"
    " eBay orders (counted as not applicable, not as missed), and the planted exceptions"
    " that need such mails (unpaid prepayment, bounce, unhappy review) are shop orders.",
    "eBay orders are paid by the buyer at eBay at checkout: they count as paid when"
    " imported. eBay's payouts to the merchant (one sum for many orders, reconciled from"
    " eBay's settlement report) are not simulated and the suite does not import"
    " settlement reports yet, so the invoices of eBay orders stay open in accounting.",
    "'Untouched' is counted over the orders without a planted exception.",
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/shop-day",
        description="Simulate a shop day end to end against local servers and report.",
    )
    parser.add_argument("--orders", type=int, default=1000, help="orders of the day (1000)")
    parser.add_argument(
        "--database", default="shop_day", help="database, dropped and created anew (shop_day)"
    )
    parser.add_argument(
        "--report", default="shop-day-report", help="folder of report.html (shop-day-report/)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the scenario")
    parser.add_argument("--waves", type=int, default=8, help="order waves during the day")
    parser.add_argument(
        "--time-budget", type=float, default=4 * 3600, help="seconds the day may take at most"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--template",
        help="copy this database (the four addons installed, nothing else) instead of "
        "installing them: faster repeated runs",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import tests.conftest  # noqa: F401 - mounts the addons' pure code (shopaddons.*)

    from . import books, report, runner, scenario

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("odoo.addons.base.models.ir_actions_report", "odoo.schema"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    settings = runner.Settings(
        orders=args.orders,
        database=args.database,
        seed=args.seed,
        waves=args.waves,
        time_budget=args.time_budget,
    )
    log = runner.DayLog()
    if args.template:
        say(f"copying {args.template!r} into a fresh database {settings.database!r}")
        runner.copy_template(settings, args.template, log)
    else:
        say(f"installing the four addons into a fresh database {settings.database!r}")
        runner.install(settings, log)
    day = scenario.make_day(settings.orders, settings.seed, datetime.now(timezone.utc))
    say(
        f"{len(day.orders)} orders, {sum(1 for o in day.orders if o.planted)} planted"
        " exceptions; starting the local servers"
    )
    world = runner.start_world(day, settings)
    try:
        registry = runner.open_registry(settings.database)
        started = time.monotonic()
        ids = runner.configure(registry, world, day)
        log.setup_seconds = time.monotonic() - started
        say("running the day")
        runner.Day(registry, world, day, ids, settings, log).run()
        with runner.odoo_env(registry) as env:
            result = books.read_books(env, day, ids, log)
    finally:
        runner.stop_world(world)
    log_data = asdict(log)
    log_data["cron_seconds"] = dict(log.cron_seconds)
    log_data["cron_runs"] = dict(log.cron_runs)
    text = report.text_report(result, log_data, NOTES)
    print(text)
    folder = Path(args.report)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.html").write_text(report.html_report(result, log_data, NOTES))
    verdict = report.evaluate(result)
    (folder / "report.json").write_text(
        json.dumps(
            {
                "verdict": verdict,
                "exceptions": result["exceptions"],
                "lost": result["lost"],
                "doubled": result["doubled"],
                "mails": result["mails"],
            },
            default=str,
            indent=1,
        )
    )
    say(f"report written to {folder / 'report.html'}")
    if not args.keep_db:
        registry = None
        _drop(settings.database)
    return 0 if all(verdict["targets"].values()) else 1


def _drop(database: str) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from backoffice import drop_database

    from odoo.modules.registry import Registry

    Registry.delete(database)
    drop_database(database)
    filestore = Path(os.path.expanduser("~/.local/share/Odoo/filestore")) / database
    shutil.rmtree(filestore, ignore_errors=True)


def say(text: str) -> None:
    print(f"[shop-day] {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
