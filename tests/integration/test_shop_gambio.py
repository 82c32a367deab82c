"""Gambio REST API v2 adapter against a local server (basic auth)."""

import json

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.gambio import GambioAdapter, GambioSettings
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy

from .shop_helpers import Sleeps, load_sample, strict_httpserver  # noqa: F401 - autouse fixture

AUTH = {"Authorization": "Basic YXBpQHNob3AuZGU6Z2VoZWlt"}  # api@shop.de:geheim
ORDERS = "/api.php/v2/orders"


def _adapter(httpserver, sleeps=None):
    return GambioAdapter(
        GambioSettings(
            base_url=httpserver.url_for("/"),
            login="api@shop.de",
            password="geheim",
            page_size=2,
            policy=HttpPolicy(timeout=5, max_retries=1),
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def _serve(httpserver, ids=(105, 104, 103, 102, 101), fail_page=None):
    """Order summaries newest first, two per page, and the details of each order."""
    pages = [ids[i : i + 2] for i in range(0, len(ids), 2)] or [()]
    for number, chunk in enumerate(pages, start=1):
        handler = httpserver.expect_request(
            ORDERS,
            query_string={"page": str(number), "per_page": "2", "sort": "-id"},
            headers=AUTH,
        )
        if number == fail_page:
            handler.respond_with_data("Internal Server Error", status=500)
        else:
            handler.respond_with_json([{"id": i, "customerName": "Anna Beispiel"} for i in chunk])
    httpserver.expect_request(
        ORDERS, query_string={"page": str(len(pages) + 1), "per_page": "2", "sort": "-id"}
    ).respond_with_json([])
    for order_id in ids:
        detail = {**load_sample("gambio"), "id": order_id}
        httpserver.expect_request(f"{ORDERS}/{order_id}", headers=AUTH).respond_with_json(detail)


def test_all_pages_on_the_first_run(httpserver):
    _serve(httpserver)
    pages = list(_adapter(httpserver).fetch_orders(None))
    assert [[o.external_id for o in p.orders] for p in pages] == [
        ["105", "104"],
        ["103", "102"],
        ["101"],
    ]
    assert json.loads(pages[-1].next_cursor) == {"since_id": 105}


def test_next_run_stops_at_the_known_id(httpserver):
    _serve(httpserver, ids=(108, 107, 106, 105, 104))
    pages = list(_adapter(httpserver).fetch_orders(json.dumps({"since_id": 105})))
    assert [o.external_id for p in pages for o in p.orders] == ["108", "107", "106"]
    assert json.loads(pages[-1].next_cursor) == {"since_id": 108}
    assert not any(r.path.endswith("/105") for r, _ in httpserver.log)


def test_500_mid_run_then_resume(httpserver):
    _serve(httpserver, fail_page=2)
    saved = None
    with pytest.raises(TransientError, match="HTTP 500"):
        for page in _adapter(httpserver).fetch_orders(None):
            saved = page.next_cursor
    assert json.loads(saved) == {"since_id": 0, "page": 2, "max_id": 105}
    httpserver.clear()
    _serve(httpserver)
    resumed = list(_adapter(httpserver).fetch_orders(saved))
    assert [o.external_id for p in resumed for o in p.orders] == ["103", "102", "101"]
    assert json.loads(resumed[-1].next_cursor) == {"since_id": 105}


def test_429_then_success(httpserver):
    httpserver.expect_oneshot_request(ORDERS).respond_with_data(
        "", status=429, headers={"Retry-After": "2"}
    )
    _serve(httpserver, ids=(1,))
    sleeps = Sleeps()
    (page,) = _adapter(httpserver, sleeps).fetch_orders(None)
    assert len(page.orders) == 1
    assert sleeps == [2.0]


def test_truncated_details_are_transient(httpserver):
    httpserver.expect_request(ORDERS).respond_with_json([{"id": 7}])
    httpserver.expect_request(f"{ORDERS}/7").respond_with_data(
        '{"id": 7, "items": [', content_type="application/json"
    )
    with pytest.raises(TransientError, match="malformed JSON"):
        list(_adapter(httpserver).fetch_orders(None))


def test_wrong_password_is_permanent(httpserver):
    httpserver.expect_request(ORDERS).respond_with_json(
        {"code": 401, "status": "error", "message": "Invalid Credentials"}, status=401
    )
    with pytest.raises(PermanentError, match="Invalid Credentials"):
        list(_adapter(httpserver).fetch_orders(None))


def test_unreadable_cursor_is_permanent(httpserver):
    with pytest.raises(PermanentError, match="unreadable Gambio import cursor"):
        list(_adapter(httpserver).fetch_orders("page 2"))


def test_an_order_deleted_between_list_and_details_is_recorded(httpserver):
    httpserver.expect_request(
        ORDERS, query_string={"page": "1", "per_page": "2", "sort": "-id"}
    ).respond_with_json([{"id": 8}, {"id": 7}])
    httpserver.expect_request(ORDERS).respond_with_json([])
    httpserver.expect_request(f"{ORDERS}/8").respond_with_json(
        {"code": 404, "status": "error", "message": "Order record could not be found"}, status=404
    )
    httpserver.expect_request(f"{ORDERS}/7").respond_with_json({**load_sample("gambio"), "id": 7})
    page, last = _adapter(httpserver).fetch_orders(None)
    assert [o.external_id for o in page.orders] == ["7"]
    assert [u.external_id for u in page.unmapped] == ["8"]
    assert "could not be found" in page.unmapped[0].error
    assert (last.orders, last.unmapped) == ((), ())
    assert json.loads(last.next_cursor) == {"since_id": 8}


def test_a_shop_ignoring_the_page_parameter_cannot_loop(httpserver):
    httpserver.expect_request(ORDERS).respond_with_json([{"id": 8}, {"id": 7}])
    for order_id in (7, 8):
        detail = {**load_sample("gambio"), "id": order_id}
        httpserver.expect_request(f"{ORDERS}/{order_id}").respond_with_json(detail)
    with pytest.raises(PermanentError, match="not sorted by descending id"):
        list(_adapter(httpserver).fetch_orders(None))
