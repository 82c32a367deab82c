"""Shopware 6 Admin API adapter against a local server (OAuth client credentials)."""

import json
from datetime import datetime, timezone

import pytest
from werkzeug import Response

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.base import ImportCursor
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy
from shopaddons.shop_connector.adapters.shops.shopware import ShopwareAdapter, ShopwareSettings

from .shop_helpers import Sleeps, load_sample, strict_httpserver, variants  # noqa: F401 - autouse fixture

BEARER = {"Authorization": "Bearer eyJ0eXAiOiJKV1Qi.test"}


def _adapter(httpserver, sleeps=None):
    return ShopwareAdapter(
        ShopwareSettings(
            base_url=httpserver.url_for("/"),
            client_id="SWIAXYZ",
            client_secret="integration-secret",
            page_size=2,
            import_since=datetime(2024, 7, 1, tzinfo=timezone.utc),
            policy=HttpPolicy(timeout=5, max_retries=1),
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def _serve_token(httpserver):
    httpserver.expect_request(
        "/api/oauth/token",
        method="POST",
        json={
            "grant_type": "client_credentials",
            "client_id": "SWIAXYZ",
            "client_secret": "integration-secret",
        },
    ).respond_with_json(
        {"token_type": "Bearer", "expires_in": 600, "access_token": "eyJ0eXAiOiJKV1Qi.test"}
    )


def _serve(httpserver, count=5, fail_page=None):
    _serve_token(httpserver)
    orders = variants(
        load_sample("shopware6"), count, 1, updatedAt="2024-07-04T08:{n:02d}:00.000+00:00"
    )
    criteria = []

    def search(request):
        body = request.get_json()
        criteria.append(body)
        page, limit = body["page"], body["limit"]
        if page == fail_page:
            return Response('{"errors": [{"status": "500", "detail": "Deadlock"}]}', status=500)
        chunk = orders[(page - 1) * limit : page * limit]
        return Response(
            json.dumps({"total": count, "data": chunk}), content_type="application/json"
        )

    httpserver.expect_request(
        "/api/search/order", method="POST", headers=BEARER
    ).respond_with_handler(search)
    return criteria


def test_three_pages_with_criteria_and_bearer_token(httpserver):
    criteria = _serve(httpserver)
    pages = list(_adapter(httpserver).fetch_orders(None))
    assert [[o.external_id for o in p.orders] for p in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert [c["page"] for c in criteria] == [1, 2, 3]
    assert criteria[0]["filter"][0]["queries"][0] == {
        "type": "range",
        "field": "updatedAt",
        "parameters": {"gte": "2024-07-01T00:00:00Z"},
    }
    assert "lineItems" in criteria[0]["associations"]
    assert ImportCursor.decode(pages[-1].next_cursor).since == datetime(
        2024, 7, 4, 8, 5, tzinfo=timezone.utc
    )


def test_500_mid_run_then_resume(httpserver):
    _serve(httpserver, fail_page=2)
    saved = None
    with pytest.raises(TransientError, match="Deadlock"):
        for page in _adapter(httpserver).fetch_orders(None):
            saved = page.next_cursor
    assert ImportCursor.decode(saved).page == "2"
    httpserver.clear()
    _serve(httpserver)
    resumed = list(_adapter(httpserver).fetch_orders(saved))
    assert [o.external_id for p in resumed for o in p.orders] == ["3", "4", "5"]


def test_429_then_success(httpserver):
    _serve_token(httpserver)
    httpserver.expect_oneshot_request("/api/search/order").respond_with_data(
        "", status=429, headers={"Retry-After": "5"}
    )
    _serve(httpserver, count=1)
    sleeps = Sleeps()
    assert len(list(_adapter(httpserver, sleeps).fetch_orders(None))) == 1
    assert sleeps == [5.0]


def test_truncated_json_is_transient(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request("/api/search/order").respond_with_data(
        '{"total": 3, "data": [{"id"', content_type="application/json"
    )
    with pytest.raises(TransientError, match="malformed JSON"):
        list(_adapter(httpserver).fetch_orders(None))


def test_wrong_client_secret_is_permanent(httpserver):
    httpserver.expect_request("/api/oauth/token").respond_with_json(
        {
            "errors": [
                {
                    "code": "0",
                    "status": "401",
                    "title": "Unauthorized",
                    "detail": "The user credentials were incorrect.",
                }
            ]
        },
        status=401,
    )
    with pytest.raises(PermanentError, match="credentials were incorrect"):
        list(_adapter(httpserver).fetch_orders(None))


def test_confirm_shipment_adds_tracking_and_ships(httpserver):
    _serve_token(httpserver)
    delivery = {
        "id": "d1",
        "trackingCodes": ["OLD"],
        "stateMachineState": {"technicalName": "open"},
    }
    httpserver.expect_request("/api/search/order-delivery", method="POST").respond_with_json(
        {"total": 1, "data": [delivery]}
    )
    httpserver.expect_request(
        "/api/order-delivery/d1", method="PATCH", headers=BEARER
    ).respond_with_data("", status=204)
    httpserver.expect_request(
        "/api/_action/order_delivery/d1/state/ship", method="POST"
    ).respond_with_json({"technicalName": "shipped"})
    assert _adapter(httpserver).confirm_shipment("o1", "DHL", "0034")
    calls = [(r.method, r.path) for r, _ in httpserver.log]
    assert calls[1:] == [
        ("POST", "/api/search/order-delivery"),
        ("PATCH", "/api/order-delivery/d1"),
        ("POST", "/api/_action/order_delivery/d1/state/ship"),
    ]
    assert json.loads(httpserver.log[2][0].data) == {"trackingCodes": ["OLD", "0034"]}


def test_confirm_shipment_again_changes_nothing(httpserver):
    _serve_token(httpserver)
    delivery = {
        "id": "d1",
        "trackingCodes": ["0034"],
        "stateMachineState": {"technicalName": "shipped"},
    }
    httpserver.expect_request("/api/search/order-delivery").respond_with_json({"data": [delivery]})
    assert not _adapter(httpserver).confirm_shipment("o1", "DHL", "0034")
    assert len(httpserver.log) == 2  # token, search


def test_push_stock_patches_the_product_found_by_number(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request(
        "/api/search/product",
        method="POST",
        json={
            "filter": [{"type": "equals", "field": "productNumber", "value": "ESP-6"}],
            "limit": 2,
        },
    ).respond_with_json({"total": 1, "data": [{"id": "p1", "productNumber": "ESP-6"}]})
    httpserver.expect_request("/api/product/p1", method="PATCH", headers=BEARER).respond_with_data(
        "", status=204
    )
    _adapter(httpserver).push_stock("ESP-6", 9)
    assert json.loads(httpserver.log[-1][0].data) == {"stock": 9}


def test_push_stock_unknown_number_is_permanent(httpserver):
    _serve_token(httpserver)
    httpserver.expect_request("/api/search/product").respond_with_json({"total": 0, "data": []})
    with pytest.raises(PermanentError, match="0 products"):
        _adapter(httpserver).push_stock("NOPE", 1)
