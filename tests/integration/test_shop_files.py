"""File order imports (Yatego CSV export, generic JSON) downloaded from a local server."""

from decimal import Decimal

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.files import FileImportAdapter, FileImportSettings
from shopaddons.shop_connector.adapters.shops.http import HttpPolicy
from shopaddons.shop_connector.services.order_generic import CsvMapping

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


def test_generic_csv_with_a_custom_mapping(httpserver):
    mapping = CsvMapping(
        columns={
            "external_id": "Bestellnr",
            "created_at": "Datum",
            "email": "Mail",
            "line_ean": "EAN",
            "line_quantity": "Menge",
            "line_unit_price": "Preis",
            "total": "Summe",
        },
        delimiter="\t",
        date_format="%d.%m.%Y",
        encoding="cp1252",
        decimal_separator=",",
    )
    data = "Bestellnr\tDatum\tMail\tEAN\tMenge\tPreis\tSumme\r\n".encode("cp1252")
    data += "B-7\t02.07.2024\tjörg@example.de\t4006381333931\t1\t1.049,00\t1.049,00\r\n".encode(
        "cp1252"
    )
    httpserver.expect_request("/export", headers=AUTH).respond_with_data(data)
    (page,) = _adapter(httpserver, "csv", csv_mapping=mapping).fetch_orders(None)
    (order,) = page.orders
    assert (order.external_id, order.customer.email) == ("B-7", "jörg@example.de")
    assert order.total == order.lines[0].unit_price == Decimal("1049.00")
    assert order.lines[0].ean == "4006381333931"


def test_generic_csv_missing_a_mapped_column_is_permanent(httpserver):
    mapping = CsvMapping(
        columns={
            "external_id": "Nr",
            "created_at": "Datum",
            "line_sku": "SKU",
            "line_quantity": "Menge",
            "line_unit_price": "Preis",
            "total": "Summe",
        },
    )
    httpserver.expect_request("/export").respond_with_data(b"Nr;Datum;SKU;Menge;Preis\r\n")
    with pytest.raises(PermanentError, match=r"total \(column 'Summe'\)"):
        list(_adapter(httpserver, "csv", csv_mapping=mapping).fetch_orders(None))
