"""Gambio REST API v2 adapter against a local server (basic auth)."""

import json
from datetime import datetime, timezone

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.gambio import GambioAdapter, GambioSettings
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy

from .shop_helpers import Sleeps, load_sample, strict_httpserver  # noqa: F401 - autouse fixture

AUTH = {"Authorization": "Basic YXBpQHNob3AuZGU6Z2VoZWlt"}  # api@shop.de:geheim
ORDERS = "/api.php/v2/orders"
NOW = datetime(2024, 7, 6, 8, 30, tzinfo=timezone.utc)
TODAY = "2024-07-06"


def _adapter(httpserver, sleeps=None, now=NOW):
    return GambioAdapter(
        GambioSettings(
            base_url=httpserver.url_for("/"),
            login="api@shop.de",
            password="geheim",
            page_size=2,
            policy=HttpPolicy(timeout=5, max_retries=1),
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
        now=lambda: now,
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
    assert json.loads(pages[-1].next_cursor) == {"since_id": 105, "modified": TODAY}


def test_next_run_stops_at_the_known_id(httpserver):
    _serve(httpserver, ids=(108, 107, 106, 105, 104))
    pages = list(_adapter(httpserver).fetch_orders(json.dumps({"since_id": 105})))
    assert [o.external_id for p in pages for o in p.orders] == ["108", "107", "106"]
    assert json.loads(pages[-1].next_cursor) == {"since_id": 108, "modified": TODAY}
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
    assert json.loads(resumed[-1].next_cursor) == {"since_id": 105, "modified": TODAY}


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
    assert json.loads(last.next_cursor) == {"since_id": 8, "modified": TODAY}


def test_a_shop_ignoring_the_page_parameter_cannot_loop(httpserver):
    httpserver.expect_request(ORDERS).respond_with_json([{"id": 8}, {"id": 7}])
    for order_id in (7, 8):
        detail = {**load_sample("gambio"), "id": order_id}
        httpserver.expect_request(f"{ORDERS}/{order_id}").respond_with_json(detail)
    with pytest.raises(PermanentError, match="not sorted by descending id"):
        list(_adapter(httpserver).fetch_orders(None))


# --- changed orders (documented change history: ``?modified=YYYY-MM-DD``) ----------------


def _serve_details(httpserver, ids, **extra):
    for order_id in ids:
        detail = {**load_sample("gambio"), "id": order_id, **extra}
        httpserver.expect_request(f"{ORDERS}/{order_id}", headers=AUTH).respond_with_json(detail)


def test_a_later_run_reads_new_orders_then_the_changes_of_each_day(httpserver):
    httpserver.expect_request(
        ORDERS, query_string={"page": "1", "per_page": "2", "sort": "-id"}, headers=AUTH
    ).respond_with_json([{"id": 106}, {"id": 105}])
    httpserver.expect_request(
        ORDERS, query_string={"modified": "2024-07-05"}, headers=AUTH
    ).respond_with_json({"updated": [{"id": 103}, {"id": 106}], "deleted": []})
    httpserver.expect_request(
        ORDERS, query_string={"modified": "2024-07-06"}, headers=AUTH
    ).respond_with_json(
        {"updated": [{"id": 101}, {"id": 103}], "deleted": [{"id": 99, "date": "2024-07-06"}]}
    )
    _serve_details(httpserver, (106, 103, 101))
    cursor = json.dumps({"since_id": 105, "modified": "2024-07-05"})
    pages = list(_adapter(httpserver).fetch_orders(cursor))
    assert [[o.external_id for o in p.orders] for p in pages] == [["106"], ["103"], ["101"]]
    assert [p.has_more for p in pages] == [True, True, False]
    # after each page the cursor says where a stopped run continues
    assert [json.loads(p.next_cursor) for p in pages] == [
        {"since_id": 106, "modified": "2024-07-05", "new_done": True},
        {"since_id": 106, "modified": "2024-07-05"},
        {"since_id": 106, "modified": TODAY},
    ]
    # every order's details are read once per run, though listed as new and changed
    details = [r.path for r, _ in httpserver.log if r.path.startswith(f"{ORDERS}/")]
    assert sorted(details) == [f"{ORDERS}/101", f"{ORDERS}/103", f"{ORDERS}/106"]


def test_a_run_stopped_in_the_changes_reads_that_day_again(httpserver):
    httpserver.expect_request(
        ORDERS, query_string={"page": "1", "per_page": "2", "sort": "-id"}
    ).respond_with_json([{"id": 106}])
    httpserver.expect_request(ORDERS, query_string={"modified": TODAY}).respond_with_json(
        {"updated": [{"id": 104}], "deleted": []}
    )
    _serve_details(httpserver, (104,))
    cursor = json.dumps({"since_id": 106, "modified": TODAY})
    new, changed = _adapter(httpserver).fetch_orders(cursor)
    assert (new.orders, [o.external_id for o in changed.orders]) == ((), ["104"])
    assert json.loads(changed.next_cursor) == {"since_id": 106, "modified": TODAY}


def test_a_status_change_moves_the_change_time(httpserver):
    history = [
        {"id": 1, "statusId": 1, "dateAdded": "2024-07-05 11:20:33", "comment": ""},
        {"id": 2, "statusId": 99, "dateAdded": "2024-07-06 08:00:00", "comment": "Storno"},
    ]
    httpserver.expect_request(
        ORDERS, query_string={"page": "1", "per_page": "2", "sort": "-id"}
    ).respond_with_json([{"id": 104}])
    httpserver.expect_request(ORDERS, query_string={"modified": TODAY}).respond_with_json(
        {"updated": [{"id": 104}], "deleted": []}
    )
    _serve_details(httpserver, (104,), statusId=99, statusHistory=history)
    pages = list(
        _adapter(httpserver).fetch_orders(json.dumps({"since_id": 104, "modified": TODAY}))
    )
    (order,) = [o for p in pages for o in p.orders]
    assert order.status == "cancelled"
    assert order.updated_at == datetime(2024, 7, 6, 8, 0, tzinfo=timezone.utc)


def test_a_change_history_that_is_no_object_is_permanent(httpserver):
    httpserver.expect_request(
        ORDERS, query_string={"page": "1", "per_page": "2", "sort": "-id"}
    ).respond_with_json([])
    httpserver.expect_request(ORDERS, query_string={"modified": TODAY}).respond_with_json([1, 2])
    with pytest.raises(PermanentError, match="change history"):
        list(_adapter(httpserver).fetch_orders(json.dumps({"since_id": 5, "modified": TODAY})))


# --- write-back: shipped status with a history comment -------------------------------


def test_confirm_shipment_sets_the_shipped_status_with_carrier_and_tracking(httpserver):
    httpserver.expect_request(f"{ORDERS}/400210/history", headers=AUTH).respond_with_json(
        [{"id": 1, "statusId": 1, "dateAdded": "2024-07-05 11:20:33", "comment": ""}]
    )
    expected = {
        "statusId": 3,
        "comment": "Versand mit DHL Paket, Sendungsnummer 00340434161094042557",
        "customerNotified": False,
    }
    httpserver.expect_oneshot_request(
        f"{ORDERS}/400210/status", method="PATCH", json=expected, headers=AUTH
    ).respond_with_json({"id": 2, "statusId": 3, "dateAdded": "2024-07-06 09:00:00", **expected})
    _adapter(httpserver).confirm_shipment("400210", "DHL Paket", "00340434161094042557")
    assert [r.method for r, _ in httpserver.log] == ["GET", "PATCH"]


def test_confirm_shipment_again_sends_nothing_twice(httpserver):
    httpserver.expect_request(f"{ORDERS}/400210/history").respond_with_json(
        [
            {"id": 1, "statusId": 1, "dateAdded": "2024-07-05 11:20:33", "comment": ""},
            {
                "id": 2,
                "statusId": 3,
                "dateAdded": "2024-07-06 09:00:00",
                "comment": "Versand mit DHL Paket, Sendungsnummer 00340434161094042557",
                "customerNotified": False,
            },
        ]
    )
    _adapter(httpserver).confirm_shipment("400210", "DHL Paket", "00340434161094042557")
    assert [r.method for r, _ in httpserver.log] == ["GET"]  # no PATCH (strict server)


def test_confirm_shipment_with_a_custom_shipped_status(httpserver):
    httpserver.expect_request(f"{ORDERS}/7/history").respond_with_json([])
    body = {"statusId": 14, "comment": "Versand mit DPD", "customerNotified": True}
    httpserver.expect_oneshot_request(
        f"{ORDERS}/7/status", method="PATCH", json=body
    ).respond_with_json({"id": 5, **body})
    adapter = GambioAdapter(
        GambioSettings(
            base_url=httpserver.url_for("/"),
            login="api@shop.de",
            password="geheim",
            shipped_status_id=14,
            notify_customer=True,
        ),
        sleep=Sleeps(),
    )
    adapter.confirm_shipment("7", "DPD", "")


def test_confirm_shipment_server_error_is_transient_and_not_repeated(httpserver):
    httpserver.expect_request(f"{ORDERS}/7/history").respond_with_json([])
    httpserver.expect_request(f"{ORDERS}/7/status", method="PATCH").respond_with_data(
        "Internal Server Error", status=500
    )
    with pytest.raises(TransientError, match="HTTP 500"):
        _adapter(httpserver).confirm_shipment("7", "DHL", "123")
    # PATCH is not idempotent: one attempt; the job retries later and reads the history first
    assert [r.method for r, _ in httpserver.log].count("PATCH") == 1


def test_confirm_shipment_of_an_unknown_order_is_permanent(httpserver):
    httpserver.expect_request(f"{ORDERS}/9/history").respond_with_json(
        {"code": 404, "status": "error", "message": "Order record could not be found"}, status=404
    )
    with pytest.raises(PermanentError, match="could not be found"):
        _adapter(httpserver).confirm_shipment("9", "DHL", "123")


# --- stock: documented product search by article number, then PUT the quantity ------------

PRODUCTS = "/api.php/v2/products"


def _product(product_id, model, quantity=12, combis=False):
    """A ``GXProduct`` as the documented search answers it (the parts we read)."""
    return {
        "id": product_id,
        "productModel": model,
        "quantity": quantity,
        "settings": {"usePropertiesCombisQuantity": combis, "minOrder": 1},
    }


def _search(httpserver, model, *products, oneshot=False):
    expect = httpserver.expect_oneshot_request if oneshot else httpserver.expect_request
    return expect(
        f"{PRODUCTS}/search",
        method="POST",
        json={"search": {"match": {"products.products_model": model}}},
        headers=AUTH,
    ).respond_with_json(list(products))


def test_push_stock_puts_the_quantity_of_the_product_found_by_article_number(httpserver):
    # the shop's search ignores case: only the exact article number is updated
    _search(httpserver, "MUG-9", _product(41, "mug-9"), _product(42, "MUG-9"))
    httpserver.expect_oneshot_request(
        f"{PRODUCTS}/42", method="PUT", json={"quantity": 3}, headers=AUTH
    ).respond_with_json(_product(42, "MUG-9", quantity=3))
    _adapter(httpserver).push_stock("MUG-9", 3)
    assert [(r.method, r.path) for r, _ in httpserver.log] == [
        ("POST", f"{PRODUCTS}/search"),
        ("PUT", f"{PRODUCTS}/42"),
    ]
    assert httpserver.log[-1][0].headers["Content-Type"] == "application/json"


def test_push_stock_zero_when_sold_out(httpserver):
    _search(httpserver, "MUG-9", _product(42, "MUG-9"))
    httpserver.expect_oneshot_request(
        f"{PRODUCTS}/42", method="PUT", json={"quantity": 0}
    ).respond_with_json(_product(42, "MUG-9", quantity=0))
    _adapter(httpserver).push_stock("MUG-9", 0)


def test_push_stock_unknown_article_number_is_permanent(httpserver):
    _search(httpserver, "NOPE")
    with pytest.raises(PermanentError, match="0 products with article number 'NOPE'"):
        _adapter(httpserver).push_stock("NOPE", 1)


def test_push_stock_two_products_with_the_number_is_permanent(httpserver):
    _search(httpserver, "MUG-9", _product(42, "MUG-9"), _product(43, "MUG-9"))
    with pytest.raises(PermanentError, match="2 products"):
        _adapter(httpserver).push_stock("MUG-9", 1)
    assert [r.method for r, _ in httpserver.log] == ["POST"]


def test_push_stock_of_a_product_with_combination_stock_is_refused(httpserver):
    _search(httpserver, "SHIRT", _product(7, "SHIRT", combis=True))
    with pytest.raises(PermanentError, match="per property combination"):
        _adapter(httpserver).push_stock("SHIRT", 4)
    assert [r.method for r, _ in httpserver.log] == ["POST"]  # nothing written


def test_push_stock_429_then_success(httpserver):
    httpserver.expect_oneshot_request(f"{PRODUCTS}/search", method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": "3"}
    )
    _search(httpserver, "MUG-9", _product(42, "MUG-9"))
    httpserver.expect_oneshot_request(f"{PRODUCTS}/42", method="PUT").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_oneshot_request(
        f"{PRODUCTS}/42", method="PUT", json={"quantity": 2}
    ).respond_with_json(_product(42, "MUG-9", quantity=2))
    sleeps = Sleeps()
    _adapter(httpserver, sleeps).push_stock("MUG-9", 2)
    assert sleeps == [3.0, 1.0]


def test_push_stock_server_error_is_retried_then_transient(httpserver):
    _search(httpserver, "MUG-9", _product(42, "MUG-9"))
    httpserver.expect_request(f"{PRODUCTS}/42", method="PUT").respond_with_data(
        "Internal Server Error", status=503
    )
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="HTTP 503 after 2 attempt"):
        _adapter(httpserver, sleeps).push_stock("MUG-9", 2)
    # PUT is idempotent: retried once (max_retries=1), then left to the job's retry
    assert [r.method for r, _ in httpserver.log].count("PUT") == 2
    assert len(sleeps) == 1


def test_push_stock_search_server_error_then_success(httpserver):
    httpserver.expect_oneshot_request(f"{PRODUCTS}/search", method="POST").respond_with_data(
        "Bad Gateway", status=502
    )
    _search(httpserver, "MUG-9", _product(42, "MUG-9"))
    httpserver.expect_oneshot_request(
        f"{PRODUCTS}/42", method="PUT", json={"quantity": 5}
    ).respond_with_json(_product(42, "MUG-9", quantity=5))
    _adapter(httpserver).push_stock("MUG-9", 5)
    assert [r.method for r, _ in httpserver.log] == ["POST", "POST", "PUT"]


def test_push_stock_wrong_password_is_permanent(httpserver):
    httpserver.expect_request(f"{PRODUCTS}/search", method="POST").respond_with_json(
        {"code": 401, "status": "error", "message": "Invalid Credentials"}, status=401
    )
    with pytest.raises(PermanentError, match="Invalid Credentials"):
        _adapter(httpserver).push_stock("MUG-9", 1)


def test_push_stock_a_shop_keeping_another_quantity_is_permanent(httpserver):
    _search(httpserver, "MUG-9", _product(42, "MUG-9"))
    httpserver.expect_request(f"{PRODUCTS}/42", method="PUT").respond_with_json(
        _product(42, "MUG-9", quantity=12)
    )
    with pytest.raises(PermanentError, match="kept quantity 12, 4 was sent"):
        _adapter(httpserver).push_stock("MUG-9", 4)
