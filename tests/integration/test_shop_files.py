"""File order imports (Yatego CSV export, generic JSON) downloaded from a local server."""

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.files import FileImportAdapter, FileImportSettings
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy

from .shop_helpers import SHOPS_DIR, Sleeps, strict_httpserver  # noqa: F401 - autouse fixture

AUTH = {"Authorization": "Basic aGFlbmRsZXI6Z2VoZWlt"}  # haendler:geheim


def _adapter(httpserver, file_format, sleeps=None, **settings):
    return FileImportAdapter(
        FileImportSettings(
            url=httpserver.url_for("/export"),
            file_format=file_format,
            login="haendler",
            password="geheim",
            policy=HttpPolicy(timeout=5, max_retries=1),
            **settings,
        ),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def test_yatego_export_is_one_page_without_cursor(httpserver):
    httpserver.expect_request("/export", headers=AUTH).respond_with_data(
        (SHOPS_DIR / "yatego" / "orders_cp1252.csv").read_bytes(),
        content_type="text/csv; charset=windows-1252",
    )
    (page,) = _adapter(httpserver, "yatego").fetch_orders("ignored")
    assert [o.external_id for o in page.orders] == ["Y-880001", "Y-880002"]
    assert page.next_cursor is None and not page.has_more


def test_generic_json_after_a_429(httpserver):
    httpserver.expect_oneshot_request("/export").respond_with_data(
        "", status=429, headers={"Retry-After": "4"}
    )
    httpserver.expect_request("/export").respond_with_data(
        (SHOPS_DIR / "generic" / "orders.json").read_bytes(), content_type="application/json"
    )
    sleeps = Sleeps()
    (page,) = _adapter(httpserver, "json", sleeps).fetch_orders(None)
    assert [o.external_id for o in page.orders] == ["WEB-2024-0001"]
    assert sleeps == [4.0]


def test_truncated_json_file_is_transient(httpserver):
    data = (SHOPS_DIR / "generic" / "orders.json").read_bytes()[:200]
    httpserver.expect_request("/export").respond_with_data(data, content_type="application/json")
    with pytest.raises(TransientError, match="truncated or malformed JSON file"):
        list(_adapter(httpserver, "json").fetch_orders(None))


def test_server_error_is_transient(httpserver):
    httpserver.expect_request("/export").respond_with_data("down", status=500)
    with pytest.raises(TransientError, match="HTTP 500"):
        list(_adapter(httpserver, "yatego").fetch_orders(None))


def test_csv_without_mapping_is_refused():
    with pytest.raises(PermanentError, match="column mapping"):
        FileImportAdapter(FileImportSettings(url="http://127.0.0.1:1/x", file_format="csv"))
