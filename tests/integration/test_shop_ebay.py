"""eBay Sell Fulfillment adapter against a local server (OAuth token endpoint included)."""

import base64
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.base import ImportCursor, ShipmentLine
from shopaddons.shop_connector.adapters.shops.ebay import EbayAdapter, EbaySettings
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy

from .shop_helpers import Sleeps, load_sample, strict_httpserver, variants  # noqa: F401 - autouse fixture

ORDERS = "/sell/fulfillment/v1/order"
BEARER = {"Authorization": "Bearer v^1.1#i^1#user-token"}
FILTER = "lastmodifieddate:[2024-07-01T00:00:00.000Z..]"


def _adapter(httpserver, sleeps=None):
    return EbayAdapter(
        EbaySettings(
            endpoint=httpserver.url_for("/"),
            client_id="App-ID",
            client_secret="Cert-ID",
            refresh_token="v^1.1#refresh",
            token_url=httpserver.url_for("/identity/v1/oauth2/token"),
            page_size=2,
            import_since=datetime(2024, 7, 1, tzinfo=timezone.utc),
            policy=HttpPolicy(timeout=5, max_retries=1),
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def _serve_token(httpserver):
    basic = "Basic " + base64.b64encode(b"App-ID:Cert-ID").decode()
    httpserver.expect_request(
        "/identity/v1/oauth2/token", method="POST", headers={"Authorization": basic}
    ).respond_with_json(
        {
            "access_token": "v^1.1#i^1#user-token",
            "expires_in": 7200,
            "token_type": "User Access Token",
        }
    )


def _serve(httpserver, count=5, fail_page=None):
    _serve_token(httpserver)
    orders = variants(
        load_sample("ebay"),
        count,
        1,
        id_key="orderId",
        lastModifiedDate="2024-07-03T10:{n:02d}:00.000Z",
    )
    pages = [orders[i : i + 2] for i in range(0, count, 2)]
    for number, chunk in enumerate(pages, start=1):
        offset = (number - 1) * 2
        body = {"href": "...", "total": count, "limit": 2, "offset": offset, "orders": chunk}
        if number < len(pages):
            body["next"] = (
                httpserver.url_for(ORDERS) + f"?filter={FILTER}&limit=2&offset={offset + 2}"
            )
        handler = httpserver.expect_request(
            ORDERS,
            query_string={"limit": "2", "offset": str(offset), "filter": FILTER},
            headers=BEARER,
        )
        if number == fail_page:
            handler.respond_with_data("Service Unavailable", status=503)
        else:
            handler.respond_with_json(body)


def test_three_pages_by_next_href_with_the_user_token(httpserver):
    _serve(httpserver)
    pages = list(_adapter(httpserver).fetch_orders(None))
    assert [[o.external_id for o in p.orders] for p in pages] == [["1", "2"], ["3", "4"], ["5"]]
    token = next(r for r, _ in httpserver.log if r.path.endswith("/token"))
    assert parse_qs(token.get_data(as_text=True))["grant_type"] == ["refresh_token"]
    assert ImportCursor.decode(pages[0].next_cursor).page == "2"
    assert ImportCursor.decode(pages[-1].next_cursor).since == datetime(
        2024, 7, 3, 10, 5, tzinfo=timezone.utc
    )


def test_503_mid_run_then_resume_from_the_saved_offset(httpserver):
    _serve(httpserver, fail_page=3)
    saved = None
    with pytest.raises(TransientError, match="HTTP 503"):
        for page in _adapter(httpserver).fetch_orders(None):
            saved = page.next_cursor
    assert ImportCursor.decode(saved).page == "4"
    httpserver.clear()
    _serve(httpserver)
    assert [o.external_id for p in _adapter(httpserver).fetch_orders(saved) for o in p.orders] == [
        "5"
    ]


def test_429_then_success(httpserver):
    httpserver.expect_oneshot_request(ORDERS).respond_with_json(
        {"errors": [{"errorId": 2001, "message": "Too many requests"}]}, status=429
    )
    _serve(httpserver, count=1)
    sleeps = Sleeps()
    assert len(list(_adapter(httpserver, sleeps).fetch_orders(None))) == 1
    assert sleeps == [1.0]  # no Retry-After: backoff


def test_truncated_json_is_transient(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request(ORDERS).respond_with_data(
        '{"orders": [{"orderId"', content_type="application/json"
    )
    with pytest.raises(TransientError, match="malformed JSON"):
        list(_adapter(httpserver).fetch_orders(None))


def test_expired_consent_is_permanent(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request(ORDERS).respond_with_json(
        {
            "errors": [
                {
                    "errorId": 1001,
                    "domain": "OAuth",
                    "message": "Invalid access token",
                    "longMessage": "Invalid access token. Check the Authorization HTTP header.",
                }
            ]
        },
        status=401,
    )
    with pytest.raises(PermanentError, match="1001: Invalid access token"):
        list(_adapter(httpserver).fetch_orders(None))


def test_confirm_shipment_posts_all_lines_once(httpserver):
    _serve_token(httpserver)
    base = "/sell/fulfillment/v1/order/12-11111-22222"
    httpserver.expect_request(f"{base}/shipping_fulfillment", method="GET").respond_with_json(
        {"fulfillments": [], "total": 0}
    )
    httpserver.expect_request(base, method="GET").respond_with_json(load_sample("ebay"))
    httpserver.expect_request(
        f"{base}/shipping_fulfillment", method="POST", headers=BEARER
    ).respond_with_data("", status=201, headers={"Location": f"{base}/shipping_fulfillment/9"})
    shipped = datetime(2024, 7, 4, 9, 0, tzinfo=timezone.utc)
    assert _adapter(httpserver).confirm_shipment("12-11111-22222", "DHL", "0034", ship_date=shipped)
    assert json.loads(httpserver.log[-1][0].data) == {
        "lineItems": [{"lineItemId": "10022882651234", "quantity": 2}],
        "shippedDate": "2024-07-04T09:00:00.000Z",
        "shippingCarrierCode": "DHL",
        "trackingNumber": "0034",
    }


def test_confirm_shipment_without_a_date_is_shipped_at_the_adapters_clock(httpserver):
    _serve_token(httpserver)
    base = "/sell/fulfillment/v1/order/12-11111-22222"
    httpserver.expect_request(f"{base}/shipping_fulfillment", method="GET").respond_with_json(
        {"fulfillments": [], "total": 0}
    )
    httpserver.expect_request(
        f"{base}/shipping_fulfillment", method="POST", headers=BEARER
    ).respond_with_data("", status=201, headers={"Location": f"{base}/shipping_fulfillment/11"})
    adapter = _adapter(httpserver)
    adapter._now = lambda: datetime(2024, 7, 6, 13, 30, 5, 999000, tzinfo=timezone.utc)
    lines = [ShipmentLine("10022882651234", 2)]
    assert adapter.confirm_shipment("12-11111-22222", "DHL", "0036", lines)
    assert json.loads(httpserver.log[-1][0].data)["shippedDate"] == "2024-07-06T13:30:05.000Z"


def test_confirm_shipment_of_given_lines_posts_them_without_reading_the_order(httpserver):
    _serve_token(httpserver)
    base = "/sell/fulfillment/v1/order/12-11111-22222"
    httpserver.expect_request(f"{base}/shipping_fulfillment", method="GET").respond_with_json(
        {"fulfillments": [{"shipmentTrackingNumber": "0034"}], "total": 1}
    )
    httpserver.expect_request(
        f"{base}/shipping_fulfillment", method="POST", headers=BEARER
    ).respond_with_data("", status=201, headers={"Location": f"{base}/shipping_fulfillment/10"})
    shipped = datetime(2024, 7, 5, 9, 0, tzinfo=timezone.utc)
    lines = [ShipmentLine("10022882651234", 1)]
    assert _adapter(httpserver).confirm_shipment(
        "12-11111-22222", "DHL", "0035", lines, ship_date=shipped
    )
    assert [(r.method, r.path) for r, _ in httpserver.log] == [
        ("POST", "/identity/v1/oauth2/token"),
        ("GET", f"{base}/shipping_fulfillment"),
        ("POST", f"{base}/shipping_fulfillment"),
    ]
    assert json.loads(httpserver.log[-1][0].data)["lineItems"] == [
        {"lineItemId": "10022882651234", "quantity": 1}
    ]


def test_confirm_shipment_with_a_known_tracking_number_does_nothing(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request(
        "/sell/fulfillment/v1/order/1/shipping_fulfillment"
    ).respond_with_json({"fulfillments": [{"shipmentTrackingNumber": "0034"}]})
    assert not _adapter(httpserver).confirm_shipment("1", "DHL", "0034")
    assert [r.method for r, _ in httpserver.log] == ["POST", "GET"]


def test_push_stock_updates_the_inventory_item(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request(
        "/sell/inventory/v1/bulk_update_price_quantity", method="POST", headers=BEARER
    ).respond_with_json({"responses": [{"statusCode": 200, "sku": "TS-100-BLK-M"}]})
    _adapter(httpserver).push_stock("TS-100-BLK-M", 3)
    assert json.loads(httpserver.log[-1][0].data) == {
        "requests": [{"sku": "TS-100-BLK-M", "shipToLocationAvailability": {"quantity": 3}}]
    }


def test_push_stock_refused_sku_is_permanent(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request("/sell/inventory/v1/bulk_update_price_quantity").respond_with_json(
        {
            "responses": [
                {
                    "statusCode": 400,
                    "sku": "NOPE",
                    "errors": [{"errorId": 25702, "message": "SKU NOPE is not available"}],
                }
            ]
        }
    )
    with pytest.raises(PermanentError, match="SKU NOPE is not available"):
        _adapter(httpserver).push_stock("NOPE", 3)
