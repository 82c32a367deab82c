"""Generic JSON/CSV order import and the Yatego CSV export."""

import json
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.files import parse_yatego_csv
from shopaddons.shop_connector.services.order_checks import check_order
from shopaddons.shop_connector.services.order_generic import (
    CsvMapping,
    decode_text,
    order_from_csv_rows,
    order_from_json,
    order_to_json,
    orders_from_csv,
    orders_from_json,
)
from shopaddons.shop_connector.services.orders import ShopFee, ShopOrderLine, make_address

from ..conftest import DATA_DIR

GENERIC = DATA_DIR / "shops" / "generic"
UTC = timezone.utc
SCHEMA = json.loads((GENERIC / "order.schema.json").read_text())
MAPPING = CsvMapping(
    columns={
        "external_id": "order",
        "created_at": "date",
        "email": "mail",
        "billing_name": "name",
        "billing_street": "street",
        "billing_zip": "zip",
        "billing_city": "city",
        "billing_country_code": "country",
        "line_sku": "sku",
        "line_quantity": "qty",
        "line_unit_price": "price",
        "total": "total",
    },
    delimiter=",",
)


def test_sample_json_follows_the_schema_and_maps():
    document = json.loads((GENERIC / "orders.json").read_text())
    for order in document["orders"]:
        jsonschema.validate(order, SCHEMA)
    (order,) = orders_from_json((GENERIC / "orders.json").read_bytes())
    assert order.external_id == "WEB-2024-0001"
    assert (
        order.shipping
        == order.billing
        == make_address(
            name="Jan de Vries",
            street="Damrak 1",
            zip_code="1012 LG",
            city="Amsterdam",
            country_code="NL",
        )
    )
    assert order.fees == (ShopFee("payment", Decimal("6.60"), "Rechnungskauf"),)
    assert order.lines[0].tax_rate == Decimal(21)
    assert check_order(order, {"TS-100-BLK-M"}) == ()


def test_order_to_json_follows_the_schema_and_round_trips():
    (order,) = orders_from_json((GENERIC / "orders.json").read_bytes())
    document = order_to_json(order)
    jsonschema.validate(document, SCHEMA)
    assert order_from_json(json.loads(json.dumps(document))) == order


_money = st.decimals(min_value=-10000, max_value=10000, places=2).map(str)


@given(
    total=_money,
    quantity=st.decimals(min_value=0, max_value=1000, places=3),
    price=st.decimals(min_value=0, max_value=10000, places=4),
    name=st.text(max_size=30),
    status=st.sampled_from(["pending", "open", "paid", "shipped", "cancelled", "refunded"]),
)
def test_json_round_trip(total, quantity, price, name, status):
    (base,) = orders_from_json((GENERIC / "orders.json").read_bytes())
    line = ShopOrderLine("SKU", name.strip(), quantity, price, tax_rate=None)
    order = replace(base, total=Decimal(total), status=status, lines=(line,))
    assert order_from_json(json.loads(json.dumps(order_to_json(order)))) == order


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not a JSON document"),
        (b"42", "must hold an order"),
        (b'{"external_id": "1"}', "missing created_at, status, currency, total"),
        (
            b'{"external_id": "1", "created_at": "2024-07-01", "status": "paid",'
            b' "currency": "EUR", "total": "zwoelf"}',
            "order 1.total",
        ),
        (
            b'{"external_id": "1", "created_at": "2024-07-01", "status": "paid",'
            b' "currency": "EUR", "total": "1", "lines": [{"sku": "A"}]}',
            r"lines\[0\]: quantity and unit_price are required",
        ),
        (
            b'{"external_id": "1", "created_at": "2024-07-01", "status": "done",'
            b' "currency": "EUR", "total": "1"}',
            "unknown status 'done'",
        ),
    ],
)
def test_invalid_json_is_a_clear_permanent_error(payload, message):
    with pytest.raises(PermanentError, match=message):
        orders_from_json(payload)


def test_generic_csv_groups_rows_by_order():
    orders = orders_from_csv((GENERIC / "orders.csv").read_bytes(), MAPPING)
    assert [o.external_id for o in orders] == ["A-1", "A-2"]
    first = orders[0]
    assert [(li.sku, li.quantity, li.unit_price) for li in first.lines] == [
        ("TS-1", Decimal(2), Decimal("19.90")),
        ("MUG-1", Decimal(1), Decimal("4.90")),
    ]
    assert first.created_at == datetime(2024, 7, 6, 10, 0, tzinfo=UTC)
    assert first.total == Decimal("44.70")
    assert first.customer.email == "a@example.de"
    assert len(first.raw["rows"]) == 2 and first.raw["rows"][0]["sku"] == "TS-1"


def test_csv_missing_column_is_named():
    data = b"order,date\r\nA-1,2024-07-06 10:00:00\r\n"
    with pytest.raises(PermanentError, match=r"line_sku \(column 'sku'\)"):
        orders_from_csv(data, MAPPING)


def test_csv_conflicting_totals_of_one_order_are_refused():
    data = (GENERIC / "orders.csv").read_bytes().replace(b'"4,90","44,70"', b'"4,90","45,70"')
    with pytest.raises(PermanentError, match="row 4: order A-1 has total '45,70'"):
        orders_from_csv(data, MAPPING)


def test_csv_bad_number_names_the_row():
    data = (GENERIC / "orders.csv").read_bytes().replace(b"MUG-1,1,", b"MUG-1,eins,", 1)
    with pytest.raises(PermanentError, match="CSV row 3: quantity"):
        orders_from_csv(data, MAPPING)


def test_decode_text():
    assert decode_text("Köln".encode("cp1252")) == "Köln"
    assert decode_text("\ufeffKöln".encode()) == "Köln"


def test_yatego_export_cp1252():
    orders = parse_yatego_csv((DATA_DIR / "shops" / "yatego" / "orders_cp1252.csv").read_bytes())
    assert [o.external_id for o in orders] == ["Y-880001", "Y-880002"]
    first, second = orders
    assert first.customer.email == "jürgen.müller@example.de"
    assert first.billing.street == "Königstraße 28"
    assert first.billing.country_code == "DE"
    assert first.shipping == first.billing
    assert (first.status, first.is_paid) == ("paid", True)
    assert [(li.sku, li.ean, li.quantity) for li in first.lines] == [
        ("KM-HOLZ", "4006381333931", Decimal(1)),
        ("FT-100", "", Decimal(2)),
    ]
    assert first.created_at == datetime(2024, 7, 1, 10, 15, tzinfo=UTC)
    assert check_order(first, {"KM-HOLZ", "FT-100"}) == ()
    assert (second.status, second.billing.country_code) == ("open", "AT")
    assert second.fees == (ShopFee("cod", Decimal("6.50"), "COD"),)
    assert [e.code for e in check_order(second, {"FT-100"})] == ["customer_note"]


def test_yatego_export_in_utf8_reads_the_same():
    raw = (DATA_DIR / "shops" / "yatego" / "orders_cp1252.csv").read_bytes()
    utf8 = raw.decode("cp1252").encode("utf-8-sig")
    assert parse_yatego_csv(utf8) == parse_yatego_csv(raw)


_VALID_HEAD = {
    "external_id": "1",
    "created_at": "2024-07-01",
    "status": "paid",
    "currency": "EUR",
    "total": "1",
}


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["1"], "order: must be a JSON object"),
        ({**_VALID_HEAD, "lines": {"sku": "A"}}, "order 1: lines and fees must be lists"),
        ({**_VALID_HEAD, "fees": "none"}, "order 1: lines and fees must be lists"),
        ({**_VALID_HEAD, "customer": ["a@example.de"]}, r"order 1\.customer: must be an object"),
    ],
)
def test_json_order_of_the_wrong_shape_is_refused(order, message):
    with pytest.raises(PermanentError, match=message):
        order_from_json(order)


def test_json_fee_amount_error_names_the_fee():
    order = {
        **_VALID_HEAD,
        "fees": [{"kind": "cod", "amount": "1"}, {"kind": "cod", "amount": "x"}],
    }
    with pytest.raises(PermanentError, match=r"order 1\.fees\[1\]\.amount"):
        order_from_json(order)


def test_stored_csv_order_without_order_id_is_refused():
    first = orders_from_csv((GENERIC / "orders.csv").read_bytes(), MAPPING)[0]
    rows = [{**row, "order": ""} for row in first.raw["rows"]]
    stored = {"rows": rows, "row_numbers": first.raw["row_numbers"]}
    with pytest.raises(PermanentError, match=r"^CSV row 2: no order id$"):
        order_from_csv_rows(stored, MAPPING)
