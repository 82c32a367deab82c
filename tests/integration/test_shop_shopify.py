"""Shopify adapter against a local server speaking the Admin REST API 2024-07."""

import json
from datetime import datetime, timezone

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.base import ImportCursor, ShipmentLine
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy
from shopaddons.shop_connector.adapters.shops.shopify import ShopifyAdapter, ShopifySettings

from .shop_helpers import Sleeps, load_sample, strict_httpserver, variants  # noqa: F401 - autouse fixture

ORDERS = "/admin/api/2024-07/orders.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_test"}
SINCE = datetime(2024, 7, 1, tzinfo=timezone.utc)


def _adapter(httpserver, sleeps=None, **settings):
    return ShopifyAdapter(
        ShopifySettings(
            shop_url=httpserver.url_for("/"),
            access_token="shpat_test",
            page_size=2,
            import_since=SINCE,
            policy=HttpPolicy(timeout=5, max_retries=2),
            **settings,
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def _pages(start=1, count=5):
    orders = variants(load_sample("shopify"), count, start, updated_at="2024-07-01T10:{n:02d}:00Z")
    return [orders[i : i + 2] for i in range(0, count, 2)]


def _serve_pages(httpserver, pages, fail_page=None):
    """Page 1 by query, page N by page_info=pN, with Link headers between them."""
    for number, orders in enumerate(pages, start=1):
        headers = {}
        if number < len(pages):
            url = httpserver.url_for(ORDERS) + f"?limit=2&page_info=p{number + 1}"
            headers["Link"] = f'<{url}>; rel="next"'
        if number == 1:
            query = {
                "status": "any",
                "limit": "2",
                "order": "updated_at asc",
                "updated_at_min": "2024-07-01T00:00:00Z",
            }
        else:
            query = {"limit": "2", "page_info": f"p{number}"}
        handler = httpserver.expect_request(ORDERS, query_string=query, headers=TOKEN)
        if number == fail_page:
            handler.respond_with_json({"errors": "Internal Server Error"}, status=500)
        else:
            handler.respond_with_json({"orders": orders}, headers=headers)


def test_three_pages_follow_the_link_header_and_send_the_token(httpserver):
    _serve_pages(httpserver, _pages())
    pages = list(_adapter(httpserver).fetch_orders(None))
    assert [[o.external_id for o in p.orders] for p in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert [p.has_more for p in pages] == [True, True, False]
    assert ImportCursor.decode(pages[0].next_cursor).page == "p2"
    final = ImportCursor.decode(pages[-1].next_cursor)
    assert final == ImportCursor(since=datetime(2024, 7, 1, 10, 5, tzinfo=timezone.utc))


def test_500_mid_run_leaves_the_cursor_at_the_last_good_page(httpserver):
    _serve_pages(httpserver, _pages(), fail_page=2)
    sleeps = Sleeps()
    saved = None
    with pytest.raises(TransientError, match="HTTP 500 after 3 attempt"):
        for page in _adapter(httpserver, sleeps).fetch_orders(None):
            saved = page.next_cursor  # the glue commits the page, then the cursor
    assert ImportCursor.decode(saved).page == "p2"
    assert sleeps == [1.0, 2.0]
    httpserver.clear()
    _serve_pages(httpserver, _pages())
    resumed = list(_adapter(httpserver).fetch_orders(saved))
    assert [o.external_id for p in resumed for o in p.orders] == ["3", "4", "5"]
    assert ImportCursor.decode(resumed[-1].next_cursor).since == datetime(
        2024, 7, 1, 10, 5, tzinfo=timezone.utc
    )


def test_429_with_retry_after_then_success(httpserver):
    httpserver.expect_oneshot_request(ORDERS).respond_with_data(
        "Exceeded 2 calls per second for api client.", status=429, headers={"Retry-After": "2.0"}
    )
    _serve_pages(httpserver, _pages(count=1))
    sleeps = Sleeps()
    pages = list(_adapter(httpserver, sleeps).fetch_orders(None))
    assert sleeps == [2.0]
    assert [o.number for o in pages[0].orders] == ["#1042"]


def test_truncated_page_is_transient(httpserver):
    httpserver.expect_request(ORDERS).respond_with_data(
        '{"orders": [{"id": 1', content_type="application/json"
    )
    with pytest.raises(TransientError, match="malformed JSON"):
        list(_adapter(httpserver).fetch_orders(None))


def test_wrong_token_is_permanent(httpserver):
    httpserver.expect_request(ORDERS).respond_with_json(
        {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
        status=401,
    )
    with pytest.raises(PermanentError, match="Invalid API key"):
        list(_adapter(httpserver).fetch_orders(None))


def test_confirm_shipment_fulfils_only_what_is_open(httpserver):
    fulfillment_orders = {
        "fulfillment_orders": [
            {"id": 1, "status": "closed", "line_items": []},
            {
                "id": 2,
                "status": "open",
                "line_items": [
                    {"id": 21, "line_item_id": 13810000000001, "fulfillable_quantity": 2},
                    {"id": 22, "line_item_id": 13810000000002, "fulfillable_quantity": 1},
                ],
            },
        ]
    }
    httpserver.expect_request(
        "/admin/api/2024-07/orders/5531234567890/fulfillments.json", headers=TOKEN
    ).respond_with_json(
        {"fulfillments": [{"id": 1, "status": "success", "tracking_numbers": ["OLD"]}]}
    )
    httpserver.expect_request(
        "/admin/api/2024-07/orders/5531234567890/fulfillment_orders.json", headers=TOKEN
    ).respond_with_json(fulfillment_orders)
    httpserver.expect_request(
        "/admin/api/2024-07/fulfillments.json", method="POST", headers=TOKEN
    ).respond_with_json({"fulfillment": {"id": 255858046}}, status=201)
    adapter = _adapter(httpserver)
    lines = [ShipmentLine("13810000000001", 1)]
    assert adapter.confirm_shipment("5531234567890", "DHL", "00340434161094042557", lines) == (
        "255858046"
    )
    body = json.loads(httpserver.log[-1][0].data)
    assert body == {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": 2,
                    "fulfillment_order_line_items": [{"id": 21, "quantity": 1}],
                }
            ],
            "tracking_info": {"company": "DHL", "number": "00340434161094042557"},
            "notify_customer": True,
        }
    }


def test_confirm_shipment_again_returns_the_existing_fulfillment(httpserver):
    httpserver.expect_request("/admin/api/2024-07/orders/9/fulfillments.json").respond_with_json(
        {"fulfillments": [{"id": 42, "status": "success", "tracking_numbers": ["0034"]}]}
    )
    lines = [ShipmentLine("13810000000001", 1)]
    assert _adapter(httpserver).confirm_shipment("9", "DHL", "0034", lines) == "42"
    assert len(httpserver.log) == 1


def test_confirm_shipment_of_a_fulfilled_order_sends_nothing(httpserver):
    httpserver.expect_request("/admin/api/2024-07/orders/9/fulfillments.json").respond_with_json(
        {"fulfillments": []}
    )
    httpserver.expect_request(
        "/admin/api/2024-07/orders/9/fulfillment_orders.json"
    ).respond_with_json({"fulfillment_orders": [{"id": 1, "status": "closed", "line_items": []}]})
    assert _adapter(httpserver).confirm_shipment("9", "DHL", "X") is None
    assert [r.method for r, _ in httpserver.log] == ["GET", "GET"]


def test_push_stock_resolves_the_sku_then_sets_the_level(httpserver):
    httpserver.expect_request("/admin/api/2024-07/graphql.json", method="POST").respond_with_json(
        {
            "data": {
                "productVariants": {
                    "edges": [
                        {
                            "node": {
                                "sku": "TS-100-BLK-M",
                                "inventoryItem": {"legacyResourceId": "808950810"},
                            }
                        }
                    ]
                }
            }
        }
    )
    httpserver.expect_request(
        "/admin/api/2024-07/inventory_levels/set.json", method="POST", headers=TOKEN
    ).respond_with_json({"inventory_level": {"available": 7}})
    _adapter(httpserver, location_id="655441491").push_stock("TS-100-BLK-M", 7)
    assert json.loads(httpserver.log[-1][0].data) == {
        "location_id": 655441491,
        "inventory_item_id": 808950810,
        "available": 7,
    }


def test_push_stock_of_an_unknown_sku_is_permanent(httpserver):
    httpserver.expect_request("/admin/api/2024-07/graphql.json", method="POST").respond_with_json(
        {"data": {"productVariants": {"edges": []}}}
    )
    with pytest.raises(PermanentError, match="0 variants"):
        _adapter(httpserver, location_id="1").push_stock("NOPE", 1)


def test_an_order_that_cannot_be_mapped_is_kept_not_dropped(httpserver):
    good, bad = _pages(count=2)[0]
    bad["total_price"] = "n/a"
    httpserver.expect_request(ORDERS, headers=TOKEN).respond_with_json({"orders": [good, bad]})
    (page,) = _adapter(httpserver).fetch_orders(None)
    assert [o.external_id for o in page.orders] == ["1"]
    assert [(u.external_id, u.raw["total_price"]) for u in page.unmapped] == [("2", "n/a")]
    assert "total_price" in page.unmapped[0].error
