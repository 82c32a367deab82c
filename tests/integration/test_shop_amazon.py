"""Amazon SP-API Orders v0 adapter against a local server (LWA token endpoint included)."""

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.amazon import AmazonAdapter, AmazonSettings
from shopaddons.shop_connector.adapters.shops.base import ImportCursor, ShipmentLine
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy

from .shop_helpers import Sleeps, load_sample, strict_httpserver, variants  # noqa: F401 - autouse fixture

MARKET = "A1PA6795UKMFR9"
TOKEN = {"x-amz-access-token": "Atza|test-token"}


def _adapter(httpserver, sleeps=None):
    return AmazonAdapter(
        AmazonSettings(
            seller_id="A2SELLER",
            endpoint=httpserver.url_for("/"),
            marketplace_ids=(MARKET,),
            client_id="amzn1.application-oa2-client.x",
            client_secret="secret",
            refresh_token="Atzr|refresh",
            token_url=httpserver.url_for("/auth/o2/token"),
            page_size=2,
            import_since=datetime(2024, 7, 1, tzinfo=timezone.utc),
            policy=HttpPolicy(timeout=5, max_retries=1),
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def _serve_token(httpserver):
    httpserver.expect_request("/auth/o2/token", method="POST").respond_with_json(
        {"access_token": "Atza|test-token", "token_type": "bearer", "expires_in": 3600}
    )


def _serve(httpserver, count=5, fail_page=None):
    _serve_token(httpserver)
    template = load_sample("amazon", "orders.json")["payload"]["Orders"][0]
    items = load_sample("amazon", "order_items.json")
    orders = variants(
        template, count, 1, id_key="AmazonOrderId", LastUpdateDate="2024-07-01T09:{n:02d}:00Z"
    )
    pages = [orders[i : i + 2] for i in range(0, count, 2)]
    for number, chunk in enumerate(pages, start=1):
        if number == 1:
            query = {
                "MarketplaceIds": MARKET,
                "MaxResultsPerPage": "2",
                "LastUpdatedAfter": "2024-07-01T00:00:00Z",
            }
        else:
            query = {"MarketplaceIds": MARKET, "NextToken": f"token-{number}"}
        payload = {"Orders": chunk}
        if number < len(pages):
            payload["NextToken"] = f"token-{number + 1}"
        handler = httpserver.expect_request("/orders/v0/orders", query_string=query, headers=TOKEN)
        if number == fail_page:
            handler.respond_with_json(
                {"errors": [{"code": "InternalFailure", "message": "We encountered an error"}]},
                status=500,
            )
        else:
            handler.respond_with_json({"payload": payload})
    for order in orders:
        httpserver.expect_request(
            f"/orders/v0/orders/{order['AmazonOrderId']}/orderItems", headers=TOKEN
        ).respond_with_json(items)


def test_three_pages_by_next_token_with_the_lwa_token(httpserver):
    _serve(httpserver)
    pages = list(_adapter(httpserver).fetch_orders(None))
    assert [[o.external_id for o in p.orders] for p in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert all(len(o.lines) == 2 for p in pages for o in p.orders)
    token_requests = [r for r, _ in httpserver.log if r.path == "/auth/o2/token"]
    assert len(token_requests) == 1  # reused for all calls
    assert parse_qs(token_requests[0].get_data(as_text=True)) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["Atzr|refresh"],
        "client_id": ["amzn1.application-oa2-client.x"],
        "client_secret": ["secret"],
    }
    assert ImportCursor.decode(pages[-1].next_cursor).since == datetime(
        2024, 7, 1, 9, 5, tzinfo=timezone.utc
    )


def test_500_mid_run_keeps_the_next_token_of_the_last_good_page(httpserver):
    _serve(httpserver, fail_page=2)
    saved = None
    with pytest.raises(TransientError, match="We encountered an error"):
        for page in _adapter(httpserver).fetch_orders(None):
            saved = page.next_cursor
    assert ImportCursor.decode(saved).page == "token-2"
    httpserver.clear()
    _serve(httpserver)
    resumed = list(_adapter(httpserver).fetch_orders(saved))
    assert [o.external_id for p in resumed for o in p.orders] == ["3", "4", "5"]


def test_429_quota_exceeded_then_success(httpserver):
    httpserver.expect_oneshot_request("/orders/v0/orders").respond_with_json(
        {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]},
        status=429,
        headers={"Retry-After": "60"},
    )
    _serve(httpserver, count=1)
    sleeps = Sleeps()
    pages = list(_adapter(httpserver, sleeps).fetch_orders(None))
    assert sleeps == [60.0]
    assert len(pages[0].orders) == 1


def test_truncated_items_are_transient(httpserver):
    _serve_token(httpserver)
    template = load_sample("amazon", "orders.json")
    httpserver.expect_request("/orders/v0/orders").respond_with_json(template)
    httpserver.expect_request("/orders/v0/orders/302-1234567-1234567/orderItems").respond_with_data(
        '{"payload": {"OrderItems": [', content_type="application/json"
    )
    with pytest.raises(TransientError, match="malformed JSON"):
        list(_adapter(httpserver).fetch_orders(None))


def test_refused_refresh_token_is_permanent(httpserver):
    httpserver.expect_request("/auth/o2/token", method="POST").respond_with_json(
        {
            "error": "invalid_grant",
            "error_description": "The request has an invalid grant parameter",
        },
        status=400,
    )
    with pytest.raises(PermanentError, match="invalid grant parameter"):
        list(_adapter(httpserver).fetch_orders(None))


def test_confirm_shipment_of_all_open_items(httpserver):
    _serve_token(httpserver)
    order = load_sample("amazon", "orders.json")["payload"]["Orders"][0]
    oid = order["AmazonOrderId"]
    httpserver.expect_request(f"/orders/v0/orders/{oid}", headers=TOKEN).respond_with_json(
        {"payload": order}
    )
    httpserver.expect_request(f"/orders/v0/orders/{oid}/orderItems").respond_with_json(
        load_sample("amazon", "order_items.json")
    )
    httpserver.expect_request(
        f"/orders/v0/orders/{oid}/shipmentConfirmation", method="POST", headers=TOKEN
    ).respond_with_data("", status=204)
    shipped = datetime(2024, 7, 2, 8, 0, tzinfo=timezone.utc)
    assert _adapter(httpserver).confirm_shipment(
        oid, "DHL", "00340434161094042557", ship_date=shipped
    )
    body = json.loads(httpserver.log[-1][0].data)
    assert body == {
        "marketplaceId": MARKET,
        "packageDetail": {
            "packageReferenceId": "00340434161094042557",
            "carrierCode": "DHL",
            "trackingNumber": "00340434161094042557",
            "shipDate": "2024-07-02T08:00:00Z",
            "orderItems": [
                {"orderItemId": "68828574383266", "quantity": 1},
                {"orderItemId": "68828574383267", "quantity": 2},
            ],
        },
    }


def test_confirm_shipment_of_a_shipped_order_does_nothing(httpserver):
    _serve_token(httpserver)
    order = load_sample("amazon", "orders.json")["payload"]["Orders"][0]
    httpserver.expect_request("/orders/v0/orders/302-1234567-1234567").respond_with_json(
        {"payload": {**order, "OrderStatus": "Shipped"}}
    )
    lines = [ShipmentLine("68828574383266", 1)]
    assert not _adapter(httpserver).confirm_shipment("302-1234567-1234567", "DHL", "X", lines)
    assert [r.method for r, _ in httpserver.log] == ["POST", "GET"]  # token, order


def test_push_stock_patches_the_listing(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request(
        "/listings/2021-08-01/items/A2SELLER/KM/HOLZ",  # werkzeug decodes %2F
        method="PATCH",
        query_string={"marketplaceIds": MARKET},
        headers=TOKEN,
    ).respond_with_json(
        {"sku": "KM/HOLZ", "status": "ACCEPTED", "submissionId": "f1", "issues": []}
    )
    _adapter(httpserver).push_stock("KM/HOLZ", 5)
    request = httpserver.log[-1][0]
    assert "/A2SELLER/KM%2FHOLZ?" in request.environ["REQUEST_URI"]
    body = json.loads(request.data)
    assert body["patches"][0]["value"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}]


def test_push_stock_invalid_listing_is_permanent(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request("/listings/2021-08-01/items/A2SELLER/NOPE").respond_with_json(
        {
            "sku": "NOPE",
            "status": "INVALID",
            "issues": [{"code": "4000003", "message": "SKU not found", "severity": "ERROR"}],
        }
    )
    with pytest.raises(PermanentError, match="4000003: SKU not found"):
        _adapter(httpserver).push_stock("NOPE", 5)
