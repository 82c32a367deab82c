"""WooCommerce adapter against a local server speaking REST API v3."""

import json
from datetime import datetime, timezone

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.base import ImportCursor
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy
from shopaddons.shop_connector.adapters.shops.woocommerce import (
    WooCommerceAdapter,
    WooCommerceSettings,
)

from .shop_helpers import Sleeps, load_sample, strict_httpserver, variants  # noqa: F401 - autouse fixture

ORDERS = "/wp-json/wc/v3/orders"
AUTH = {"Authorization": "Basic Y2tfdGVzdDpjc190ZXN0"}  # ck_test:cs_test
SINCE = datetime(2024, 7, 1, tzinfo=timezone.utc)


def _adapter(httpserver, sleeps=None, now=None):
    return WooCommerceAdapter(
        WooCommerceSettings(
            base_url=httpserver.url_for("/"),
            consumer_key="ck_test",
            consumer_secret="cs_test",
            page_size=2,
            import_since=SINCE,
            policy=HttpPolicy(timeout=5, max_retries=1),
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
        **({"now": now} if now else {}),
    )


def _serve(httpserver, count=5, fail_page=None, since="2024-07-01T00:00:00Z"):
    orders = variants(
        load_sample("woocommerce"), count, 100, date_modified_gmt="2024-07-02T09:{n:02d}:00"
    )
    pages = [orders[i : i + 2] for i in range(0, count, 2)]
    for number, chunk in enumerate(pages, start=1):
        query = {
            "page": str(number),
            "per_page": "2",
            "orderby": "id",
            "order": "asc",
            "dates_are_gmt": "true",
            "modified_after": since,
        }
        handler = httpserver.expect_request(ORDERS, query_string=query, headers=AUTH)
        if number == fail_page:
            handler.respond_with_data("<html>502 Bad Gateway</html>", status=502)
        else:
            handler.respond_with_json(
                chunk, headers={"X-WP-Total": str(count), "X-WP-TotalPages": str(len(pages))}
            )


def test_three_pages_by_total_pages_with_basic_auth(httpserver):
    _serve(httpserver)
    pages = list(_adapter(httpserver).fetch_orders(None))
    assert [[o.external_id for o in p.orders] for p in pages] == [
        ["100", "101"],
        ["102", "103"],
        ["104"],
    ]
    assert ImportCursor.decode(pages[0].next_cursor).page == "2"
    assert ImportCursor.decode(pages[-1].next_cursor) == ImportCursor(
        since=datetime(2024, 7, 2, 9, 5, tzinfo=timezone.utc)
    )


def test_orders_changed_during_the_run_are_fetched_again_next_time(httpserver):
    _serve(httpserver)
    run_start = datetime(2024, 7, 2, 9, 12, tzinfo=timezone.utc)
    pages = list(_adapter(httpserver, now=lambda: run_start).fetch_orders(None))
    assert ImportCursor.decode(pages[0].next_cursor).run_start == run_start
    # the newest change seen (09:05) is within the 10 minute margin of the run start
    assert ImportCursor.decode(pages[-1].next_cursor) == ImportCursor(
        since=datetime(2024, 7, 2, 9, 2, tzinfo=timezone.utc)
    )


def test_next_run_starts_at_the_high_water_mark(httpserver):
    _serve(httpserver, count=1, since="2024-07-02T09:05:00Z")
    cursor = ImportCursor(since=datetime(2024, 7, 2, 9, 5, tzinfo=timezone.utc)).encode()
    pages = list(_adapter(httpserver).fetch_orders(cursor))
    assert len(pages) == 1 and not pages[0].has_more


def test_502_mid_run_then_resume(httpserver):
    _serve(httpserver, fail_page=3)
    saved = None
    with pytest.raises(TransientError, match="HTTP 502"):
        for page in _adapter(httpserver).fetch_orders(None):
            saved = page.next_cursor
    assert ImportCursor.decode(saved).page == "3"
    assert ImportCursor.decode(saved).high_water == datetime(2024, 7, 2, 9, 4, tzinfo=timezone.utc)
    httpserver.clear()
    _serve(httpserver)
    resumed = list(_adapter(httpserver).fetch_orders(saved))
    assert [o.external_id for p in resumed for o in p.orders] == ["104"]


def test_429_then_success(httpserver):
    httpserver.expect_oneshot_request(ORDERS).respond_with_data(
        "", status=429, headers={"Retry-After": "3"}
    )
    _serve(httpserver, count=1)
    sleeps = Sleeps()
    assert len(list(_adapter(httpserver, sleeps).fetch_orders(None))) == 1
    assert sleeps == [3.0]


def test_truncated_json_is_transient(httpserver):
    httpserver.expect_request(ORDERS).respond_with_data(
        '[{"id": 7', content_type="application/json"
    )
    with pytest.raises(TransientError, match="malformed JSON"):
        list(_adapter(httpserver).fetch_orders(None))


def test_bad_credentials_are_permanent(httpserver):
    httpserver.expect_request(ORDERS).respond_with_json(
        {
            "code": "woocommerce_rest_authentication_error",
            "message": "Invalid signature - provided signature does not match.",
            "data": {"status": 401},
        },
        status=401,
    )
    with pytest.raises(PermanentError, match="Invalid signature"):
        list(_adapter(httpserver).fetch_orders(None))


def test_confirm_shipment_adds_the_note_once_and_completes(httpserver):
    notes = "/wp-json/wc/v3/orders/727/notes"
    httpserver.expect_request(notes, method="GET", headers=AUTH).respond_with_json([])
    httpserver.expect_request(notes, method="POST").respond_with_json({"id": 1}, status=201)
    httpserver.expect_request("/wp-json/wc/v3/orders/727", method="GET").respond_with_json(
        {"id": 727, "status": "processing"}
    )
    httpserver.expect_request("/wp-json/wc/v3/orders/727", method="PUT").respond_with_json(
        {"id": 727, "status": "completed"}
    )
    _adapter(httpserver).confirm_shipment("727", "DHL", "00340434161094042557")
    methods = [(r.method, r.path) for r, _ in httpserver.log]
    assert methods == [
        ("GET", notes),
        ("POST", notes),
        ("GET", "/wp-json/wc/v3/orders/727"),
        ("PUT", "/wp-json/wc/v3/orders/727"),
    ]
    assert json.loads(httpserver.log[1][0].data) == {
        "note": "Shipped with DHL, tracking number 00340434161094042557",
        "customer_note": True,
    }
    assert json.loads(httpserver.log[3][0].data) == {"status": "completed"}


def test_confirm_shipment_again_changes_nothing(httpserver):
    httpserver.expect_request("/wp-json/wc/v3/orders/727/notes").respond_with_json(
        [{"id": 1, "note": "Shipped with DHL, tracking number 0034"}]
    )
    httpserver.expect_request("/wp-json/wc/v3/orders/727").respond_with_json(
        {"id": 727, "status": "completed"}
    )
    _adapter(httpserver).confirm_shipment("727", "DHL", "0034")
    assert [r.method for r, _ in httpserver.log] == ["GET", "GET"]


@pytest.mark.parametrize(
    ("product", "path"),
    [
        ({"id": 93, "parent_id": 0, "sku": "KM-HOLZ"}, "/wp-json/wc/v3/products/93"),
        ({"id": 23, "parent_id": 22, "sku": "KM-HOLZ"}, "/wp-json/wc/v3/products/22/variations/23"),
    ],
)
def test_push_stock_updates_product_or_variation(httpserver, product, path):
    httpserver.expect_request(
        "/wp-json/wc/v3/products", query_string={"sku": "KM-HOLZ"}
    ).respond_with_json([product])
    httpserver.expect_request(path, method="PUT").respond_with_json(product)
    _adapter(httpserver).push_stock("KM-HOLZ", 12)
    assert json.loads(httpserver.log[-1][0].data) == {"manage_stock": True, "stock_quantity": 12}


def test_push_stock_unknown_sku_is_permanent(httpserver):
    httpserver.expect_request("/wp-json/wc/v3/products").respond_with_json([])
    with pytest.raises(PermanentError, match="0 products"):
        _adapter(httpserver).push_stock("NOPE", 1)
