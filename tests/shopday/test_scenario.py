"""The shop day's scenario and report, pure: no Odoo, no servers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from shopaddons.shop_connector.adapters.shops.registry import PAYLOAD_MAPPERS
from shopaddons.shop_connector.services.order_checks import check_order
from shopday import report, scenario

START = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
KNOWN = {*scenario.CATALOGUE, scenario.BULKY_SKU, scenario.SCARCE_SKU}
# what the import's checks must say about an order of each planted kind
IMPORT_CODES = {
    "customer_note": {"customer_note"},
    "packstation_bulky": {"packstation_bulky"},
    "unknown_product": {"unknown_product"},
    "totals_mismatch": {"totals_mismatch"},
}


@pytest.mark.parametrize(("size", "planted"), [(40, 9), (1000, 50), (5, 5)])
def test_about_five_percent_planted_and_every_kind_once(size, planted):
    day = scenario.make_day(size, seed=3, start=START)
    kinds = Counter(o.planted for o in day.orders if o.planted)
    assert sum(kinds.values()) == planted
    if size >= len(scenario.EXCEPTION_KINDS):
        assert set(kinds) == set(scenario.EXCEPTION_KINDS)


def test_same_seed_same_day():
    first = scenario.make_day(60, seed=7, start=START)
    second = scenario.make_day(60, seed=7, start=START)
    assert [(o.email, o.planted, o.lines) for o in first.orders] == [
        (o.email, o.planted, o.lines) for o in second.orders
    ]


def test_payloads_map_and_only_planted_orders_fail_the_import_checks():
    day = scenario.make_day(200, seed=1, start=START)
    for order in day.orders:
        payload = scenario.PAYLOAD_BUILDERS[order.platform](order)
        mapped = PAYLOAD_MAPPERS[order.platform](payload)
        codes = {e.code for e in check_order(mapped, KNOWN, bulky_skus={scenario.BULKY_SKU})}
        assert codes == IMPORT_CODES.get(order.planted, set()), (order.number, codes)
        assert mapped.total == order.total
        assert mapped.customer.email == order.email


def _books(untouched: int, clean: int, found: int = 1, lost: int = 0, doubled: int = 0):
    orders = [
        {"planted": None, "untouched": n < untouched, "stages": {}, "stage_seconds": {}}
        for n in range(clean)
    ]
    return {
        "orders": orders,
        "exceptions": {"customer_note": {"planted": 1, "found": found, "missed": []}},
        "lost": {"total": lost},
        "doubled": {"total": doubled},
    }


@pytest.mark.parametrize(
    ("books", "missed"),
    [
        (_books(95, 100), set()),
        (_books(94, 100), {"untouched >= 95 %"}),
        (_books(100, 100, found=0), {"100 % of planted exceptions as owned cases with SLA"}),
        (_books(100, 100, lost=1), {"0 lost"}),
        (_books(100, 100, doubled=2), {"0 doubled"}),
    ],
)
def test_targets(books, missed):
    verdict = report.evaluate(books)
    assert {t for t, met in verdict["targets"].items() if not met} == missed


def test_channels_forty_thirty_thirty_and_marketplace_orders_paid_there():
    day = scenario.make_day(1000, seed=2, start=START)
    share = Counter(o.platform for o in day.orders)
    assert share == {"shopify": 400, "woocommerce": 300, "ebay": 300}
    for order in day.by_platform("ebay"):
        assert order.is_marketplace
        assert order.payment == scenario.MARKETPLACE_PAYMENT
        assert order.email.endswith("@members.ebay.com")
    assert not any(o.is_marketplace for o in day.orders if o.platform != "ebay")
    assert len({o.external_id for o in day.orders}) == len(day.orders)


@pytest.mark.parametrize("size", [40, 200, 1000])
def test_exceptions_needing_customer_mails_are_planted_in_shop_orders(size):
    day = scenario.make_day(size, seed=5, start=START)
    for kind in scenario.NEEDS_CUSTOMER_MAIL:
        assert day.planted()[kind], kind
        assert all(not o.is_marketplace for o in day.planted()[kind]), kind
    # the other kinds may fall on the marketplace
    others = [o for o in day.orders if o.planted and o.planted not in scenario.NEEDS_CUSTOMER_MAIL]
    assert others


def test_ebay_payload_is_eBays_order_with_a_masked_buyer():
    day = scenario.make_day(40, seed=1, start=START)
    order = next(o for o in day.orders if o.platform == "ebay" and o.street2 == "")
    payload = scenario.ebay_payload(order)
    mapped = PAYLOAD_MAPPERS["ebay"](payload)
    assert mapped.external_id == order.external_id == payload["orderId"]
    assert mapped.number == order.number
    assert mapped.is_paid and mapped.status == "paid"
    assert mapped.payment_method == scenario.PAYMENT_CODES["ebay"][scenario.MARKETPLACE_PAYMENT]
    assert mapped.customer.is_masked_marketplace_email
    assert mapped.shipping.zip == order.zip and mapped.shipping.street == order.street
    assert [(li.sku, li.quantity) for li in mapped.lines] == [
        (line.sku, line.quantity) for line in order.lines
    ]
    assert mapped.shipping_total == scenario.SHIPPING


def test_not_applicable_stages_are_not_missed():
    from shopday.books import missed

    assert missed(False) and not missed(None) and not missed(True)
    books = _books(1, 1)
    books["orders"][0]["stages"] = {"imported": True, "mailed": None, "paid": False}
    books["orders"][0]["cases"] = []
    assert report.missing_stages(books) == Counter({"paid": 1})
