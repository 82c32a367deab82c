"""The normalized order, its helpers, and the platform mappings on golden payloads."""

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.base import ImportCursor
from shopaddons.shop_connector.adapters.shops.shopify import map_shopify_order, next_page_info
from shopaddons.shop_connector.adapters.shops.woocommerce import map_woocommerce_order
from shopaddons.shop_connector.services.order_checks import check_order, expected_total
from shopaddons.shop_connector.services.orders import (
    ShopAddress,
    ShopCustomer,
    ShopFee,
    ShopOrder,
    ShopOrderLine,
    detect_packstation,
    is_masked_marketplace_email,
    parse_datetime,
    to_decimal,
)

from ..conftest import DATA_DIR

SHOPS = DATA_DIR / "shops"
UTC = timezone.utc


def _sample(platform, name="order.json"):
    return json.loads((SHOPS / platform / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("12,50", Decimal("12.50")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("-2,00", Decimal("-2.00")),
        (" 7 ", Decimal(7)),
        (3, Decimal(3)),
        (0.1, Decimal("0.1")),
        (None, Decimal(0)),
        ("", Decimal(0)),
    ],
)
def test_to_decimal(value, expected):
    assert to_decimal(value) == expected


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2))
def test_to_decimal_reads_german_and_english_formatting(amount):
    english = f"{amount:,.2f}"
    german = english.replace(",", "_").replace(".", ",").replace("_", ".")
    assert to_decimal(english) == amount
    assert to_decimal(german) == amount
    assert to_decimal(str(amount)) == amount


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", True])
def test_to_decimal_rejects_non_numbers(value):
    with pytest.raises(PermanentError, match="price"):
        to_decimal(value, "price")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-01T14:03:12+02:00", datetime(2024, 7, 1, 12, 3, 12, tzinfo=UTC)),
        ("2024-07-01T12:03:12Z", datetime(2024, 7, 1, 12, 3, 12, tzinfo=UTC)),
        ("2024-07-01T12:03:12.000Z", datetime(2024, 7, 1, 12, 3, 12, tzinfo=UTC)),
        ("2024-07-01 12:03:12", datetime(2024, 7, 1, 12, 3, 12, tzinfo=UTC)),
    ],
)
def test_parse_datetime_gives_aware_utc(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize("value", ["", None, "yesterday"])
def test_parse_datetime_rejects_garbage(value):
    with pytest.raises(PermanentError, match="created"):
        parse_datetime(value, "created")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("Packstation 123", "Postnummer 12345678"), (True, "12345678")),
        (("12345678", "Pack Station 105"), (True, "12345678")),
        (("Postfiliale 502",), (True, "")),
        (("Packstationsweg 4",), (False, "")),
        (("Hauptstraße 5",), (False, "")),
    ],
)
def test_detect_packstation(texts, expected):
    assert detect_packstation(*texts) == expected


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("0h5x7@marketplace.amazon.de", True),
        ("abc@marketplace.amazon.co.uk", True),
        ("a1b2@members.ebay.de", True),
        ("erika@example.de", False),
        ("amazon@marketplace.example.de", False),
        ("", False),
    ],
)
def test_masked_marketplace_email(email, masked):
    assert is_masked_marketplace_email(email) is masked


def test_order_rejects_unknown_status_and_fee_kind():
    base = {
        "external_id": "1",
        "number": "1",
        "created_at": datetime(2024, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2024, 1, 1, tzinfo=UTC),
        "payment_method": "",
        "is_paid": False,
        "currency": "EUR",
        "total": Decimal(0),
    }
    with pytest.raises(PermanentError, match="unknown status 'processing'"):
        ShopOrder(status="processing", **base)
    with pytest.raises(PermanentError, match="unknown fee kind"):
        ShopOrder(status="open", fees=(ShopFee("tip", Decimal(1)),), **base)
    with pytest.raises(PermanentError, match="external id"):
        ShopOrder(status="open", **{**base, "external_id": ""})


def test_cursor_round_trip_and_garbage():
    cursor = ImportCursor(
        since=datetime(2024, 7, 1, tzinfo=UTC),
        page="p2",
        high_water=datetime(2024, 7, 2, tzinfo=UTC),
    )
    assert ImportCursor.decode(cursor.encode()) == cursor
    assert ImportCursor.decode(None, cursor.since) == ImportCursor(since=cursor.since)
    with pytest.raises(PermanentError, match="unreadable import cursor"):
        ImportCursor.decode("page=2")


def _stamped(minute):
    order = map_shopify_order(_sample("shopify"))
    return replace(order, updated_at=datetime(2024, 7, 1, 12, minute, tzinfo=UTC))


@pytest.mark.parametrize(
    ("since", "run_start", "minutes", "expected"),
    [
        # quiet shop: the newest change seen is well before the run
        (None, datetime(2024, 7, 1, 13, 0, tzinfo=UTC), (5, 20), datetime(2024, 7, 1, 12, 20)),
        # busy shop: changes up to the run start; next run starts 10 min before it
        (None, datetime(2024, 7, 1, 12, 25, tzinfo=UTC), (5, 20), datetime(2024, 7, 1, 12, 15)),
        # nothing fetched: start the next run shortly before this one
        (
            datetime(2024, 7, 1, 9, 0, tzinfo=UTC),
            datetime(2024, 7, 1, 12, 0, tzinfo=UTC),
            (),
            datetime(2024, 7, 1, 11, 50),
        ),
        # never go back before the old since
        (
            datetime(2024, 7, 1, 12, 18, tzinfo=UTC),
            datetime(2024, 7, 1, 12, 21, tzinfo=UTC),
            (20,),
            datetime(2024, 7, 1, 12, 18),
        ),
        # no run start known (old cursor): the high-water mark
        (None, None, (5, 20), datetime(2024, 7, 1, 12, 20)),
    ],
)
def test_finished_cursor_never_passes_changes_made_during_the_run(
    since, run_start, minutes, expected
):
    cursor = ImportCursor(since=since, run_start=run_start)
    final = ImportCursor.decode(cursor.finished(tuple(_stamped(m) for m in minutes)))
    assert final == ImportCursor(since=expected.replace(tzinfo=UTC))


def test_a_resumed_run_keeps_its_start_time():
    start = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    cursor = ImportCursor().started(start).advance((_stamped(1),), "p2")
    resumed = ImportCursor.decode(cursor.encode()).started(start + timedelta(hours=1))
    assert resumed.run_start == start
    assert resumed.page == "p2"
    assert resumed.high_water == datetime(2024, 7, 1, 12, 1, tzinfo=UTC)


def test_next_page_info():
    header = (
        "<https://x.myshopify.com/admin/api/2024-07/orders.json?limit=250&page_info=abc>;"
        ' rel="previous", <https://x.myshopify.com/admin/api/2024-07/orders.json?'
        'limit=250&page_info=def>; rel="next"'
    )
    assert next_page_info(header) == "def"
    assert next_page_info("") is None


def test_map_shopify_order_golden():
    order = map_shopify_order(_sample("shopify"))
    assert order == ShopOrder(
        external_id="5531234567890",
        number="#1042",
        created_at=datetime(2024, 7, 1, 12, 3, 12, tzinfo=UTC),
        updated_at=datetime(2024, 7, 1, 12, 5, 40, tzinfo=UTC),
        status="paid",
        payment_method="paypal",
        is_paid=True,
        currency="EUR",
        total=Decimal("60.52"),
        shipping_total=Decimal("4.90"),
        discount_total=Decimal("6.18"),
        customer=ShopCustomer(
            email="erika.mustermann@example.de",
            name="Erika Mustermann",
            phone="+49 30 1234567",
        ),
        billing=ShopAddress(
            name="Erika Mustermann",
            street="Heidestraße 17",
            zip="51147",
            city="Köln",
            country_code="DE",
        ),
        shipping=ShopAddress(
            name="Erika Mustermann",
            street="Packstation 123",
            street2="Postnummer 12345678",
            zip="10115",
            city="Berlin",
            country_code="DE",
            is_packstation=True,
            post_number="12345678",
        ),
        lines=(
            ShopOrderLine(
                external_id="13810000000001",
                sku="TS-100-BLK-M",
                name="Bio-T-Shirt - schwarz / M",
                quantity=Decimal(2),
                unit_price=Decimal("24.90"),
                price_includes_tax=True,
                tax_rate=Decimal(19),
                discount=Decimal("4.98"),
            ),
            ShopOrderLine(
                external_id="13810000000002",
                sku="BECHER-01",
                name="Emaille-Becher",
                quantity=Decimal(1),
                unit_price=Decimal("12.00"),
                price_includes_tax=True,
                tax_rate=Decimal(19),
                discount=Decimal("1.20"),
            ),
        ),
        customer_note="Bitte nicht klingeln, Baby schläft.",
        shipping_method="DHL Paket",
        shipping_method_title="DHL Paket",
    )
    assert order.raw["id"] == 5531234567890
    assert expected_total(order) == order.total
    assert order.order_level_discount == 0


@pytest.mark.parametrize(
    ("changes", "status", "is_paid"),
    [
        ({"financial_status": "pending"}, "open", False),
        ({"financial_status": "authorized"}, "open", False),
        ({"fulfillment_status": "fulfilled"}, "shipped", True),
        ({"cancelled_at": "2024-07-02T10:00:00+02:00"}, "cancelled", True),
        ({"financial_status": "refunded"}, "refunded", True),
        ({"financial_status": "partially_refunded"}, "paid", True),
    ],
)
def test_shopify_status(changes, status, is_paid):
    order = map_shopify_order({**_sample("shopify"), **changes})
    assert (order.status, order.is_paid) == (status, is_paid)


def test_shopify_net_prices_are_flagged():
    order = map_shopify_order({**_sample("shopify"), "taxes_included": False})
    assert not order.lines[0].price_includes_tax
    assert order.lines[0].gross_subtotal == Decimal("59.2620")


def test_map_woocommerce_order_golden():
    order = map_woocommerce_order(_sample("woocommerce"))
    assert order == ShopOrder(
        external_id="727",
        number="727",
        created_at=datetime(2024, 7, 2, 8, 15, tzinfo=UTC),
        updated_at=datetime(2024, 7, 2, 8, 20, tzinfo=UTC),
        status="paid",
        payment_method="cod",
        is_paid=True,
        currency="EUR",
        total=Decimal("76.36"),
        shipping_total=Decimal("4.90"),
        discount_total=Decimal("5.95"),
        customer=ShopCustomer(
            email="max@mustermann-gmbh.de",
            name="Max Mustermann",
            phone="+49 221 234567",
            company="Mustermann GmbH",
        ),
        billing=ShopAddress(
            name="Max Mustermann",
            company="Mustermann GmbH",
            street="Hauptstraße 5",
            zip="50667",
            city="Köln",
            country_code="DE",
        ),
        shipping=ShopAddress(
            name="Max Mustermann",
            company="Mustermann GmbH",
            street="Hauptstraße 5",
            zip="50667",
            city="Köln",
            country_code="DE",
        ),
        lines=(
            ShopOrderLine(
                external_id="315",
                sku="KM-HOLZ",
                name="Kaffeemühle Holz",
                quantity=Decimal(2),
                unit_price=Decimal("29.75"),
                tax_rate=Decimal(19),
                discount=Decimal("5.95"),
            ),
            ShopOrderLine(
                external_id="316",
                sku="FT-100",
                name="Filtertüten 100 Stück",
                quantity=Decimal(1),
                unit_price=Decimal("11.90"),
                tax_rate=Decimal(19),
                discount=Decimal(0),
            ),
        ),
        fees=(ShopFee("cod", Decimal("6.01"), "Nachnahmegebühr"),),
        shipping_method="flat_rate",
        shipping_method_title="Flat Rate",
    )
    assert check_order(order, {"KM-HOLZ", "FT-100"}) == ()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", "open"),
        ("on-hold", "open"),
        ("completed", "shipped"),
        ("cancelled", "cancelled"),
    ],
)
def test_woocommerce_status(status, expected):
    sample = {**_sample("woocommerce"), "status": status, "date_paid_gmt": None}
    assert map_woocommerce_order(sample).status == expected


def test_woocommerce_unknown_status_is_permanent():
    with pytest.raises(PermanentError, match="unknown status 'trash'"):
        map_woocommerce_order({**_sample("woocommerce"), "status": "trash"})


def test_woocommerce_separate_shipping_address_wins():
    sample = _sample("woocommerce")
    sample["shipping"] = {
        **sample["billing"],
        "address_1": "Packstation 201",
        "address_2": "87654321",
        "company": "",
    }
    order = map_woocommerce_order(sample)
    assert order.shipping.is_packstation and order.shipping.post_number == "87654321"
    assert order.billing.street == "Hauptstraße 5"


@pytest.mark.parametrize(
    ("name", "total", "kind"),
    [
        ("Nachnahmegebühr", "5.05", "cod"),
        ("Cash on delivery fee", "5.05", "cod"),
        ("COD", "5.05", "cod"),
        ("Verpackung", "1.00", "other"),
        ("Treuerabatt", "-3.00", "voucher"),
    ],
)
def test_woocommerce_fee_kinds(name, total, kind):
    sample = _sample("woocommerce")
    sample["fee_lines"] = [{"name": name, "total": total, "total_tax": "0"}]
    assert map_woocommerce_order(sample).fees[0].kind == kind
