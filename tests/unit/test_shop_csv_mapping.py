"""Column mapping of CSV order files: checks, preview, separators and re-mapping."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.files import YATEGO_COLUMNS, YATEGO_MAPPING
from shopaddons.shop_connector.services.csv_mapping import (
    CSV_FIELDS,
    REQUIRED_FIELDS,
    check_mapping,
    preview,
)
from shopaddons.shop_connector.services.order_generic import (
    CsvMapping,
    decode_text,
    order_from_csv_rows,
    orders_from_csv,
)

from ..conftest import DATA_DIR

YATEGO_FILE = DATA_DIR / "shops" / "yatego" / "orders_cp1252.csv"
COLUMNS = {
    "external_id": "Nr",
    "created_at": "Datum",
    "total": "Summe",
    "line_ean": "EAN",
    "line_quantity": "Menge",
    "line_unit_price": "Preis",
}
PIPE = CsvMapping(columns=COLUMNS, delimiter="|", date_format="%d.%m.%Y")


def test_every_required_field_can_be_mapped():
    assert set(REQUIRED_FIELDS) <= set(CSV_FIELDS)
    assert set(YATEGO_COLUMNS) <= set(CSV_FIELDS)


def test_yatego_defaults_are_complete():
    assert not check_mapping(YATEGO_COLUMNS)


@pytest.mark.parametrize("field", ["external_id", "created_at", "total", "line_quantity"])
def test_an_unmapped_required_field_is_named(field):
    columns = {k: v for k, v in YATEGO_COLUMNS.items() if k != field}
    assert check_mapping(columns).missing_fields == (field,)


def test_sku_or_ean_is_enough_but_one_is_needed():
    assert not check_mapping(COLUMNS)  # EAN only
    without = {k: v for k, v in COLUMNS.items() if k != "line_ean"}
    assert check_mapping(without).missing_fields == ("line_sku",)


def test_columns_the_file_lacks_are_named():
    problems = check_mapping(COLUMNS, headers=("Nr", "Datum", "Summe", "EAN", "Menge"))
    assert problems.unknown_columns == ("Preis",)
    assert bool(problems)


def test_preview_of_the_yatego_sample():
    shown = preview(YATEGO_FILE.read_bytes(), YATEGO_MAPPING, max_rows=2)
    assert shown.headers[:3] == ("Order_ID", "Bestelldatum", "Status")
    assert len(shown.rows) == 2
    assert dict(shown.first_values)["email"] == "jürgen.müller@example.de"
    assert dict(shown.first_values)["line_unit_price"] == "29,90"


@pytest.mark.parametrize("data", [b"", b"\n"])
def test_preview_of_an_empty_file_is_refused(data):
    with pytest.raises(PermanentError, match=r"empty|header"):
        preview(data, YATEGO_MAPPING)


def test_explicit_encoding_refuses_a_file_in_another():
    data = "Nr|Datum\nA|Köln\n".encode("cp1252")
    with pytest.raises(PermanentError, match="not utf-8"):
        decode_text(data, "utf-8")
    assert decode_text(data, "cp1252").endswith("Köln\n")


def test_decimal_comma_with_thousands_points():
    data = b"Nr|Datum|Summe|EAN|Menge|Preis\nA|01.07.2024|1.234,50|4006381333931|1|1.234,50\n"
    (order,) = orders_from_csv(data, replace(PIPE, decimal_separator=","))
    assert order.total == Decimal("1234.50")
    assert order.lines[0].ean == "4006381333931"
    assert order.lines[0].sku == ""


def test_decimal_point_with_thousands_commas():
    data = b"Nr|Datum|Summe|EAN|Menge|Preis\nA|01.07.2024|1,234.50|4006381333931|1|1,234.50\n"
    (order,) = orders_from_csv(data, replace(PIPE, decimal_separator="."))
    assert order.lines[0].unit_price == Decimal("1234.50")


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_german_amounts_read_back(amount):
    german = f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    data = f"Nr|Datum|Summe|EAN|Menge|Preis\nA|01.07.2024|{german}|1|1|{german}\n".encode()
    (order,) = orders_from_csv(data, replace(PIPE, decimal_separator=","))
    assert order.total == amount


def test_stored_rows_map_again_with_a_changed_mapping():
    orders = orders_from_csv(YATEGO_FILE.read_bytes(), YATEGO_MAPPING)
    first = orders[0]
    assert order_from_csv_rows(first.raw, YATEGO_MAPPING) == first
    fixed = replace(YATEGO_MAPPING, columns={**YATEGO_MAPPING.columns, "line_sku": "EAN"})
    again = order_from_csv_rows(first.raw, fixed)
    assert [line.sku for line in again.lines] == ["4006381333931", ""]
    # the row numbers of the file stay in the messages of a re-mapping
    assert first.raw["row_numbers"][0] == 2


def test_stored_rows_without_rows_are_refused():
    with pytest.raises(PermanentError, match="no rows"):
        order_from_csv_rows({"rows": []}, YATEGO_MAPPING)
