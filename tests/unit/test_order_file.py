"""One order file read whole: JSON (our format), CSV with a mapping, Yatego's export."""

from __future__ import annotations

import json

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.files import parse_order_file
from shopaddons.shop_connector.services.order_generic import CsvMapping

from ..conftest import DATA_DIR

SHOPS = DATA_DIR / "shops"


def test_json_file_of_our_format():
    orders = parse_order_file((SHOPS / "generic" / "orders.json").read_bytes(), "json")
    assert [o.external_id for o in orders] == ["WEB-2024-0001"]


def test_yatego_export_is_read_with_the_documented_columns():
    orders = parse_order_file((SHOPS / "yatego" / "orders_cp1252.csv").read_bytes(), "yatego")
    assert orders
    assert all(order.lines for order in orders)


def test_csv_with_a_mapping():
    data = (
        b"Nr;Datum;Mail;Artikel;Menge;Preis;Summe\n7;2024-07-01 10:15:00;a@b.de;X-1;2;5.00;10.00\n"
    )
    mapping = CsvMapping(
        columns={
            "external_id": "Nr",
            "created_at": "Datum",
            "email": "Mail",
            "line_sku": "Artikel",
            "line_quantity": "Menge",
            "line_unit_price": "Preis",
            "total": "Summe",
        }
    )
    (order,) = parse_order_file(data, "csv", mapping)
    assert order.external_id == "7"
    assert order.lines[0].quantity == 2


@pytest.mark.parametrize(
    ("data", "file_format", "match"),
    [
        (b"", "json", "empty"),
        (b"{ not json", "json", "not a JSON document"),
        (b"42", "json", "must hold an order"),
        (json.dumps({"orders": [{"external_id": "1"}]}).encode(), "json", "missing created_at"),
        (b"a;b\n1;2\n", "csv", "lacks required columns"),
        (b"x", "xml", "unknown order file format"),
    ],
)
def test_a_file_that_cannot_be_read_whole_is_a_permanent_error(data, file_format, match):
    with pytest.raises(PermanentError, match=match):
        parse_order_file(data, file_format)
