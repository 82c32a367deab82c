"""The shop day at a small size: ``scripts/shop-day --orders 40`` and its targets.

Runs the real command (a fresh database with the four addons, the local servers, the
scheduled actions) once for the module and reads its ``report.json``. Needs Odoo 19,
PostgreSQL and Debian's dovecot; skipped only when Odoo is not importable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 40


def _odoo_importable() -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo.release as r; assert r.series == '19.0'"],
        capture_output=True,
        cwd="/",
        check=False,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _odoo_importable(), reason="Odoo 19 is not importable")


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shop-day-report")
    database = f"shop_day_test_{os.getpid()}"
    command = [
        str(ROOT / "scripts" / "shop-day"),
        "--orders",
        str(ORDERS),
        "--database",
        database,
        "--report",
        str(folder),
        "--waves",
        "3",
    ]
    template = os.environ.get("SHOP_DAY_TEMPLATE")  # an installed database, to go faster
    if template:
        command += ["--template", template]
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    report = folder / "report.json"
    assert report.exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc, json.loads(report.read_text()), folder


def test_command_writes_the_report(day):
    proc, data, folder = day
    html = (folder / "report.html").read_text()
    assert "<svg" in html and "Shop day report" in html
    assert "SHOP DAY REPORT" in proc.stdout
    met = all(data["verdict"]["targets"].values())
    assert proc.returncode == (0 if met else 1), proc.stderr[-4000:]


def test_every_order_of_the_shops_is_imported(day):
    _proc, data, _folder = day
    assert data["verdict"]["orders"] == ORDERS
    assert data["lost"]["orders_not_imported"] == []


def test_nothing_lost(day):
    _proc, data, _folder = day
    assert data["lost"]["total"] == 0, data["lost"]


def test_nothing_doubled(day):
    _proc, data, _folder = day
    assert data["doubled"]["total"] == 0, data["doubled"]


def test_every_kind_of_exception_is_planted(day):
    _proc, data, _folder = day
    assert all(row["planted"] >= 1 for row in data["exceptions"].values()), data["exceptions"]


@pytest.mark.parametrize(
    "kind",
    [
        "customer_note",
        "packstation_bulky",
        "unknown_product",
        "totals_mismatch",
        "unpaid_prepayment",
        "missing_confirmation",
        "unhappy_review",
        "stock_shortfall",
        "bounced_invoice",
    ],
)
def test_planted_exception_becomes_an_owned_case_with_sla(day, kind):
    _proc, data, _folder = day
    row = data["exceptions"][kind]
    assert row["found"] == row["planted"], row


def test_untouched_target(day):
    _proc, data, _folder = day
    assert data["verdict"]["untouched_share_clean"] >= 0.95, data["verdict"]
