"""Marketplace and shop mappings on golden payloads (tests/data/shops/<platform>)."""

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.amazon import map_amazon_order
from shopaddons.shop_connector.adapters.shops.base import map_each
from shopaddons.shop_connector.adapters.shops.ebay import map_ebay_order
from shopaddons.shop_connector.adapters.shops.gambio import _total_titles, map_gambio_order
from shopaddons.shop_connector.adapters.shops.registry import PAYLOAD_MAPPERS
from shopaddons.shop_connector.adapters.shops.shopify import map_shopify_order
from shopaddons.shop_connector.adapters.shops.shopware import map_shopware_order
from shopaddons.shop_connector.services.order_checks import (
    check_order,
    customer_match_keys,
    expected_total,
)
from shopaddons.shop_connector.services.order_generic import (
    CsvMapping,
    order_from_json,
    order_to_json,
    orders_from_csv,
)
from shopaddons.shop_connector.services.orders import (
    ShopAddress,
    ShopCustomer,
    ShopFee,
    ShopOrderLine,
)

from ..conftest import DATA_DIR

UTC = timezone.utc


def _sample(platform, name="order.json"):
    return json.loads((DATA_DIR / "shops" / platform / name).read_text(encoding="utf-8"))


def _amazon():
    order = _sample("amazon", "orders.json")["payload"]["Orders"][0]
    items = _sample("amazon", "order_items.json")["payload"]["OrderItems"]
    return order, items


def test_map_amazon_order():
    order = map_amazon_order(*_amazon())
    assert (order.external_id, order.number, order.status, order.is_paid) == (
        "302-1234567-1234567",
        "302-1234567-1234567",
        "paid",
        True,
    )
    assert order.updated_at == datetime(2024, 7, 1, 8, 35, 12, tzinfo=UTC)
    assert (order.currency, order.total, order.shipping_total, order.discount_total) == (
        "EUR",
        Decimal("42.89"),
        Decimal("3.90"),
        Decimal("3.00"),
    )
    assert order.customer == ShopCustomer(
        email="2x9fgh7p3k1q5wz@marketplace.amazon.de",
        is_masked_marketplace_email=True,
        name="Jörg Groß",
        phone="+49 40 123456",
    )
    assert order.shipping == ShopAddress(
        name="Jörg Groß", street="Lindenallee 3a", zip="20259", city="Hamburg", country_code="DE"
    )
    assert order.lines == (
        ShopOrderLine(
            external_id="68828574383266",
            sku="KM-HOLZ",
            name="Kaffeemühle aus Holz, manuell",
            quantity=Decimal(1),
            unit_price=Decimal("29.99"),
            discount=Decimal("3.00"),
        ),
        ShopOrderLine(
            external_id="68828574383267",
            sku="FT-100",
            name="Filtertüten Größe 4, 100 Stück",
            quantity=Decimal(2),
            unit_price=Decimal("6.00"),
        ),
    )
    assert order.raw["OrderItems"][0]["ASIN"] == "B08N5WRWNW"
    assert check_order(order, {"KM-HOLZ", "FT-100"}) == ()
    assert customer_match_keys(order) == ("address:joerggross|20259|lindenallee3a",)


@pytest.mark.parametrize(
    ("status", "payment", "expected", "paid"),
    [
        ("Pending", "Other", "pending", False),
        ("Shipped", "Other", "shipped", True),
        ("Canceled", "Other", "cancelled", False),
        ("Unshipped", "COD", "paid", False),
    ],
)
def test_amazon_status(status, payment, expected, paid):
    order, items = _amazon()
    mapped = map_amazon_order({**order, "OrderStatus": status, "PaymentMethod": payment}, items)
    assert (mapped.status, mapped.is_paid) == (expected, paid)


def test_amazon_cod_fee_becomes_a_fee():
    order, items = _amazon()
    items = [{**items[0], "CODFee": {"CurrencyCode": "EUR", "Amount": "4.00"}}, items[1]]
    mapped = map_amazon_order(
        {**order, "OrderTotal": {"CurrencyCode": "EUR", "Amount": "46.89"}}, items
    )
    assert mapped.fees == (ShopFee("cod", Decimal("4.00"), "COD"),)
    assert expected_total(mapped) == mapped.total


def test_amazon_unknown_status_is_permanent():
    order, items = _amazon()
    with pytest.raises(PermanentError, match="'Lost'"):
        map_amazon_order({**order, "OrderStatus": "Lost"}, items)


def test_map_ebay_order():
    order = map_ebay_order(_sample("ebay"))
    assert (order.external_id, order.number, order.status, order.payment_method) == (
        "12-11111-22222",
        "4711",
        "paid",
        "EBAY",
    )
    assert order.customer.is_masked_marketplace_email
    assert order.shipping.is_packstation and order.shipping.post_number == "12345678"
    assert order.billing.street == "Heidestraße 17"
    assert (order.total, order.shipping_total, order.discount_total) == (
        Decimal("52.30"),
        Decimal("4.99"),
        Decimal("2.49"),
    )
    assert order.lines == (
        ShopOrderLine(
            external_id="10022882651234",
            sku="TS-100-BLK-M",
            name="Bio-T-Shirt schwarz Größe M",
            quantity=Decimal(2),
            unit_price=Decimal("24.90"),
            discount=Decimal("2.49"),
        ),
    )
    assert expected_total(order) == order.total
    assert customer_match_keys(order) == ("address:erikamustermann|51147|heidestrasse17",)


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"cancelStatus": {"cancelState": "CANCELED"}}, "cancelled"),
        ({"orderFulfillmentStatus": "FULFILLED"}, "shipped"),
        ({"orderPaymentStatus": "PENDING"}, "open"),
        ({"orderPaymentStatus": "FULLY_REFUNDED"}, "refunded"),
    ],
)
def test_ebay_status(changes, status):
    assert map_ebay_order({**_sample("ebay"), **changes}).status == status


def test_map_shopware_order():
    order = map_shopware_order(_sample("shopware6"))
    assert (order.number, order.status, order.is_paid, order.payment_method) == (
        "10042",
        "paid",
        True,
        "payment_paypal",
    )
    assert order.updated_at == datetime(2024, 7, 4, 7, 45, 10, tzinfo=UTC)
    assert (order.total, order.shipping_total, order.discount_total) == (
        Decimal("73.8"),
        Decimal("5.9"),
        Decimal("2.0"),
    )
    assert order.shipping.company == "Muster AG"
    assert order.billing.country_code == "CH"
    assert [(li.sku, li.ean, li.quantity, li.unit_price, li.tax_rate) for li in order.lines] == [
        ("ESP-6", "4006381333931", Decimal(1), Decimal("49.9"), Decimal("7.7")),
        ("ET-2", "", Decimal(2), Decimal("10.0"), Decimal("7.7")),
    ]
    assert check_order(order, {"ESP-6", "ET-2"}) == ()


def test_shopware_never_updated_order_uses_created_at():
    sample = {**_sample("shopware6"), "updatedAt": None}
    assert map_shopware_order(sample).updated_at == datetime(
        2024, 7, 4, 7, 30, 1, 123000, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("order_state", "delivery_state", "payment_state", "status"),
    [
        ("open", "open", "open", "open"),
        ("cancelled", "open", "paid", "cancelled"),
        ("in_progress", "shipped", "paid", "shipped"),
        ("open", "open", "refunded", "refunded"),
    ],
)
def test_shopware_status(order_state, delivery_state, payment_state, status):
    sample = _sample("shopware6")
    sample["stateMachineState"] = {"technicalName": order_state}
    sample["deliveries"][0]["stateMachineState"] = {"technicalName": delivery_state}
    sample["transactions"][0]["stateMachineState"] = {"technicalName": payment_state}
    assert map_shopware_order(sample).status == status


def test_shopware_delivery_without_address_ships_to_the_billing_address():
    sample = _sample("shopware6")
    sample["deliveries"][0]["shippingOrderAddress"] = None
    order = map_shopware_order(sample)
    assert order.shipping == order.billing
    assert order.billing.country_code == "CH"


def test_shopware_order_without_deliveries_or_transactions_is_open():
    sample = {**_sample("shopware6"), "deliveries": [], "transactions": None}
    sample["stateMachineState"] = {"technicalName": "open"}
    order = map_shopware_order(sample)
    assert (order.status, order.is_paid, order.payment_method) == ("open", False, "")
    assert order.shipping == order.billing


def test_map_gambio_order():
    order = map_gambio_order(_sample("gambio"))
    assert (order.external_id, order.status, order.is_paid, order.payment_method) == (
        "400210",
        "open",
        False,
        "cod",
    )
    assert order.created_at == datetime(2024, 7, 5, 11, 20, 33, tzinfo=UTC)
    assert order.billing == ShopAddress(
        name="Anna Beispiel",
        street="Getreidegasse 9",
        zip="5020",
        city="Salzburg",
        country_code="AT",
    )
    assert order.shipping.street2 == "Top 4"
    assert order.fees == (ShopFee("cod", Decimal("6.5"), "Nachnahmegebühr"),)
    assert order.discount_total == Decimal("2.0")
    assert order.customer_note == "Bitte beim Nachbarn abgeben."
    assert [(li.sku, li.quantity, li.unit_price) for li in order.lines] == [
        ("KM-HOLZ", Decimal(1), Decimal("29.75")),
        ("FT-100", Decimal(3), Decimal("3.5")),
    ]
    assert [e.code for e in check_order(order, {"KM-HOLZ", "FT-100"})] == ["customer_note"]


def test_gambio_unknown_country_id_is_flagged_by_the_checks():
    sample = _sample("gambio")
    sample["addresses"]["delivery"]["countryId"] = 999
    order = map_gambio_order(sample)
    assert order.shipping.country_code == ""
    codes = [e.code for e in check_order(order, {"KM-HOLZ", "FT-100"})]
    assert "invalid_address" in codes


def test_gambio_without_total_is_permanent():
    sample = _sample("gambio")
    sample["totals"] = [t for t in sample["totals"] if t["class"] != "ot_total"]
    with pytest.raises(PermanentError, match="ot_total"):
        map_gambio_order(sample)


def test_gambio_currency_given_as_an_object_is_read():
    sample = _sample("gambio")
    sample["currencyCode"] = {"code": "CHF", "value": 1}
    assert map_gambio_order(sample).currency == "CHF"


@pytest.mark.parametrize("details", [None, [], "400210"])
def test_gambio_details_that_are_no_object_are_permanent(details):
    with pytest.raises(PermanentError, match="order details are not an object"):
        map_gambio_order(details)


@pytest.mark.parametrize(
    ("backend_type", "payload", "external_id"),
    [
        ("amazon", lambda: {**_amazon()[0], "OrderItems": _amazon()[1]}, "302-1234567-1234567"),
        ("ebay", lambda: _sample("ebay"), "12-11111-22222"),
        ("shopify", lambda: _sample("shopify"), "5531234567890"),
        ("woocommerce", lambda: _sample("woocommerce"), "727"),
        ("shopware6", lambda: _sample("shopware6"), "0190a1b2c3d4e5f60718293a4b5c6d7e"),
        ("gambio", lambda: _sample("gambio"), "400210"),
        ("generic", lambda: _sample("generic", "orders.json")["orders"][0], "WEB-2024-0001"),
    ],
)
def test_stored_payloads_map_again_by_backend_type(backend_type, payload, external_id):
    raw = payload()
    order = PAYLOAD_MAPPERS[backend_type](raw)
    assert order.external_id == external_id
    assert order.raw == raw


def test_map_each_keeps_what_fails():
    good = _sample("shopify")
    bad = {**_sample("shopify"), "id": 77, "total_price": "zwölf"}
    orders, unmapped = map_each(map_shopify_order, [good, bad, "not an order"])
    assert [o.external_id for o in orders] == ["5531234567890"]
    assert [u.external_id for u in unmapped[:1]] == ["77"]
    assert "total_price: 'zwölf' is not a number" in unmapped[0].error
    assert unmapped[0].raw is bad
    assert unmapped[1].external_id.startswith("unknown-")
    assert unmapped[1].raw == {"payload": "not an order"}


# --- shipping method (what the backend's carrier mapping matches) -------------------


def _shopware_with_method(method=None, method_id=None):
    sample = _sample("shopware6")
    delivery = sample["deliveries"][0]
    if method is not None:
        delivery["shippingMethod"] = method
    if method_id is not None:
        delivery["shippingMethodId"] = method_id
    return sample


@pytest.mark.parametrize(
    ("backend_type", "payload", "code", "title"),
    [
        ("shopify", lambda: _sample("shopify"), "DHL Paket", "DHL Paket"),
        ("woocommerce", lambda: _sample("woocommerce"), "flat_rate", "Flat Rate"),
        (
            "amazon",
            lambda: {**_amazon()[0], "OrderItems": _amazon()[1]},
            "Standard",
            "Std DE Dom_1",
        ),
        ("ebay", lambda: _sample("ebay"), "DE_DHLPaket", ""),
        ("gambio", lambda: _sample("gambio"), "flat_flat", "DHL Paket"),
        ("shopware6", lambda: _sample("shopware6"), "", ""),
        (
            "shopware6",
            lambda: _shopware_with_method(
                {"technicalName": "dhl_paket", "name": "DHL Paket"}, "0190aa"
            ),
            "dhl_paket",
            "DHL Paket",
        ),
        ("shopware6", lambda: _shopware_with_method(method_id="0190aa"), "0190aa", ""),
        ("generic", lambda: _sample("generic", "orders.json")["orders"][0], "", ""),
        (
            "generic",
            lambda: {
                **_sample("generic", "orders.json")["orders"][0],
                "shipping_method": " dhl_express ",
                "shipping_method_title": "DHL Express",
            },
            "dhl_express",
            "DHL Express",
        ),
    ],
)
def test_shipping_method_is_mapped(backend_type, payload, code, title):
    order = PAYLOAD_MAPPERS[backend_type](payload())
    assert (order.shipping_method, order.shipping_method_title) == (code, title)


@pytest.mark.parametrize(
    ("backend_type", "payload"),
    [
        ("shopify", lambda: {**_sample("shopify"), "shipping_lines": []}),
        ("woocommerce", lambda: {**_sample("woocommerce"), "shipping_lines": None}),
        ("ebay", lambda: {**_sample("ebay"), "fulfillmentStartInstructions": []}),
        ("gambio", lambda: {**_sample("gambio"), "shippingType": None}),
        (
            "amazon",
            lambda: {
                **_amazon()[0],
                "ShipmentServiceLevelCategory": None,
                "ShipServiceLevel": None,
                "OrderItems": _amazon()[1],
            },
        ),
    ],
)
def test_order_without_shipping_method_maps_to_empty(backend_type, payload):
    order = PAYLOAD_MAPPERS[backend_type](payload())
    assert (order.shipping_method, order.shipping_method_title) == ("", "")


def test_generic_json_round_trips_the_shipping_method():
    raw = {**_sample("generic", "orders.json")["orders"][0], "shipping_method": "dhl_paket"}
    order = order_from_json(raw)
    document = order_to_json(order)
    assert (document["shipping_method"], document["shipping_method_title"]) == ("dhl_paket", "")
    assert order_from_json(json.loads(json.dumps(document))) == order


def test_csv_column_of_the_shipping_method_is_mapped():
    columns = {
        "external_id": "order",
        "created_at": "date",
        "total": "total",
        "shipping_method": "Versandart",
        "line_sku": "sku",
        "line_quantity": "qty",
        "line_unit_price": "price",
    }
    data = (
        "order;date;total;Versandart;sku;qty;price\n"
        "A1;2024-07-01 10:00:00;10;DHL Paket;S1;1;10\n"
        "A2;2024-07-01 11:00:00;5;;S2;1;5\n"
    )
    orders = orders_from_csv(data.encode(), CsvMapping(columns=columns))
    assert [o.shipping_method for o in orders] == ["DHL Paket", ""]


def test_gambio_fee_lines_carry_the_shop_wording_not_the_total_class():
    titles = _total_titles(
        {
            "totals": [
                {"class": "ot_payment", "title": "<b>Zahlartaufschlag</b>:", "value": 1.5},
                {"class": "ot_gv", "title": "  Gutschein:  ", "value": 5},
                {"class": "ot_cod_fee", "title": "", "value": 6.5},
            ]
        }
    )
    assert titles == {"ot_payment": "Zahlartaufschlag", "ot_gv": "Gutschein"}
