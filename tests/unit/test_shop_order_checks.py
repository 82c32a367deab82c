"""Order checks: reasons for a person to look at an imported order."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.shop_connector.services.order_checks import (
    EXCEPTION_CODES,
    CheckSettings,
    address_problems,
    check_order,
    customer_match_keys,
    expected_total,
)
from shopaddons.shop_connector.services.orders import (
    ShopFee,
    ShopOrder,
    ShopOrderLine,
    make_address,
    make_customer,
)

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc)
KNOWN = {"TS-1", "MUG-1", "SOFA-XL"}


def _order(**overrides):
    values = {
        "external_id": "1001",
        "number": "#1001",
        "created_at": NOW,
        "updated_at": NOW,
        "status": "paid",
        "payment_method": "paypal",
        "is_paid": True,
        "currency": "EUR",
        "total": Decimal("54.70"),
        "shipping_total": Decimal("4.90"),
        "discount_total": Decimal("5.00"),
        "customer": make_customer("Erika@Example.de", "Erika Mustermann"),
        "billing": make_address(
            name="Erika Mustermann",
            street="Heidestraße 17",
            zip_code="51147",
            city="Köln",
            country_code="DE",
        ),
        "shipping": make_address(
            name="Erika Mustermann",
            street="Heidestraße 17",
            zip_code="51147",
            city="Köln",
            country_code="DE",
        ),
        "lines": (
            ShopOrderLine("TS-1", "T-Shirt", Decimal(2), Decimal("19.90")),
            ShopOrderLine("MUG-1", "Becher", Decimal(1), Decimal("15.00")),
        ),
    }
    values.update(overrides)
    return ShopOrder(**values)


def _codes(order, **kwargs):
    return [e.code for e in check_order(order, KNOWN, **kwargs)]


def test_a_clean_order_has_no_exceptions():
    assert check_order(_order(), KNOWN) == ()


def test_every_exception_has_a_known_code_and_an_explanation():
    order = _order(
        customer_note="Bitte vor die Tür stellen",
        total=Decimal(1),
        lines=(ShopOrderLine("NOPE", "Mystery", Decimal(1), Decimal(1)),),
        shipping=make_address(street="Packstation 105", zip_code="1011", country_code="DE"),
    )
    found = check_order(order, KNOWN, bulky_skus={"NOPE"})
    assert {e.code for e in found} == {
        "customer_note",
        "packstation_bulky",
        "packstation_post_number",
        "unknown_product",
        "totals_mismatch",
        "invalid_address",
    }
    assert all(e.code in EXCEPTION_CODES and e.message for e in found)


@pytest.mark.parametrize(("note", "flagged"), [("", False), ("   ", False), ("Gift!", True)])
def test_customer_note(note, flagged):
    found = check_order(_order(customer_note=note), KNOWN)
    assert ("customer_note" in [e.code for e in found]) is flagged
    if flagged:
        assert "Gift!" in found[0].message


@pytest.mark.parametrize(
    ("street", "street2", "bulky", "codes"),
    [
        ("Packstation 123", "Postnummer 12345678", set(), []),
        ("Packstation 123", "Postnummer 12345678", {"TS-1"}, ["packstation_bulky"]),
        ("Packstation 123", "", set(), ["packstation_post_number"]),
        ("Postfiliale 512", "1234567", set(), []),
        ("Heidestraße 17", "", {"TS-1"}, []),
    ],
)
def test_packstation(street, street2, bulky, codes):
    shipping = make_address(
        name="Erika",
        street=street,
        street2=street2,
        zip_code="10115",
        city="Berlin",
        country_code="DE",
    )
    assert _codes(_order(shipping=shipping), bulky_skus=bulky) == codes


def test_the_bulky_message_names_the_product():
    shipping = make_address(
        street="Packstation 1",
        street2="12345678",
        zip_code="10115",
        city="Berlin",
        country_code="DE",
    )
    (found,) = check_order(_order(shipping=shipping), KNOWN, bulky_skus={"MUG-1"})
    assert "MUG-1" in found.message


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        (ShopOrderLine("TS-1", "x", Decimal(1), Decimal(0)), False),
        (ShopOrderLine("", "x", Decimal(1), Decimal(0), ean="4006381333931"), False),
        (ShopOrderLine("OLD-SKU", "x", Decimal(1), Decimal(0), ean="4006381333931"), False),
        (ShopOrderLine("OLD-SKU", "x", Decimal(1), Decimal(0)), True),
        (ShopOrderLine("", "Versandkostenfrei-Gutschein", Decimal(1), Decimal(0)), True),
    ],
)
def test_unknown_products(line, flagged):
    order = _order(
        lines=(line,), total=Decimal(0), shipping_total=Decimal(0), discount_total=Decimal(0)
    )
    codes = _codes(order, known_eans={"4006381333931"})
    assert codes == (["unknown_product"] if flagged else [])


@pytest.mark.parametrize(
    ("total", "tolerance", "flagged"),
    [
        (Decimal("54.70"), Decimal("0.02"), False),
        (Decimal("54.72"), Decimal("0.02"), False),
        (Decimal("54.73"), Decimal("0.02"), True),
        (Decimal("54.67"), Decimal("0.02"), True),
        (Decimal("55.70"), Decimal("1.00"), False),
        (Decimal("54.70"), Decimal(0), False),
    ],
)
def test_totals_tolerance(total, tolerance, flagged):
    codes = _codes(_order(total=total), settings=CheckSettings(total_tolerance=tolerance))
    assert ("totals_mismatch" in codes) is flagged


def test_totals_count_fees_and_net_lines():
    order = _order(
        lines=(
            ShopOrderLine(
                "TS-1",
                "x",
                Decimal(2),
                Decimal("10.00"),
                price_includes_tax=False,
                tax_rate=Decimal(19),
            ),
        ),
        fees=(ShopFee("cod", Decimal("6.00")), ShopFee("voucher", Decimal("-10.00"))),
        shipping_total=Decimal("4.90"),
        discount_total=Decimal("1.00"),
        total=Decimal("23.70"),
    )
    assert expected_total(order) == Decimal("23.70")
    assert "totals_mismatch" not in _codes(order)


@given(
    prices=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=50),
            st.decimals(min_value=0, max_value=10000, places=2),
        ),
        min_size=1,
        max_size=8,
    ),
    shipping=st.decimals(min_value=0, max_value=100, places=2),
    discount=st.decimals(min_value=0, max_value=100, places=2),
    error=st.decimals(min_value=-5, max_value=5, places=2),
)
def test_totals_check_flags_exactly_the_differences_beyond_tolerance(
    prices, shipping, discount, error
):
    lines = tuple(ShopOrderLine("TS-1", "x", Decimal(q), p) for q, p in prices)
    exact = sum((q * p for q, p in prices), Decimal(0)) + shipping - discount
    order = _order(
        lines=lines, shipping_total=shipping, discount_total=discount, total=exact + error
    )
    flagged = "totals_mismatch" in _codes(order)
    assert flagged is (abs(error) > Decimal("0.02"))


def _dup(**overrides):
    return replace(_order(), external_id="999", number="#999", **overrides)


@pytest.mark.parametrize(
    ("other", "flagged"),
    [
        (_dup(created_at=NOW - timedelta(hours=3)), True),
        (_dup(created_at=NOW + timedelta(hours=23)), True),
        (_dup(created_at=NOW - timedelta(hours=25)), False),
        (_dup(status="cancelled"), False),
        (_dup(customer=make_customer("someone@else.de")), False),
        (_dup(lines=(ShopOrderLine("TS-1", "T-Shirt", Decimal(2), Decimal("19.90")),)), False),
        (replace(_order()), False),  # the order itself
    ],
)
def test_duplicates_within_the_window(other, flagged):
    found = check_order(_order(), KNOWN, recent_orders=[other])
    assert ("possible_duplicate" in [e.code for e in found]) is flagged
    if flagged:
        assert "#999" in found[0].message


def test_duplicate_lines_compare_as_multisets():
    one = (ShopOrderLine("TS-1", "a", Decimal(2), Decimal(1)),)
    split = (
        ShopOrderLine("TS-1", "a", Decimal(1), Decimal(1)),
        ShopOrderLine("TS-1", "a", Decimal(1), Decimal(1)),
    )
    other = _dup(lines=split)
    found = check_order(_order(lines=one, total=Decimal("1.90")), KNOWN, recent_orders=[other])
    assert [e.code for e in found] == ["possible_duplicate"]


def test_marketplace_duplicates_match_by_address():
    masked = make_customer("x7k2@marketplace.amazon.de", "Erika Mustermann")
    other = _dup(customer=make_customer("q9z1@marketplace.amazon.de"))
    found = check_order(_order(customer=masked), KNOWN, recent_orders=[other])
    assert [e.code for e in found] == ["possible_duplicate"]


@pytest.mark.parametrize(
    ("country", "zip_code", "street", "problem"),
    [
        ("DE", "51147", "Heidestraße 17", None),
        ("DE", "5114", "Heidestraße 17", "ZIP code '5114' is not valid in DE"),
        ("DE", "", "Heidestraße 17", "ZIP code is missing"),
        ("DE", "51147", "", "street is missing"),
        ("DE", "51147", "Heidestraße", "has no house number"),
        ("AT", "1010", "Stephansplatz 1", None),
        ("AT", "10100", "Stephansplatz 1", "not valid in AT"),
        ("CH", "8001", "Bahnhofstrasse 1", None),
        ("NL", "1012 AB", "Dam 1", None),
        ("NL", "1012ab", "Dam 1", None),
        ("NL", "1012", "Dam 1", "not valid in NL"),
        ("PL", "00-950", "Marszałkowska 1", None),
        ("GB", "SW1A 1AA", "Downing Street", None),
        ("", "51147", "Heidestraße 17", "country is missing"),
        ("XX", "anything", "Road", None),
    ],
)
def test_address_validation(country, zip_code, street, problem):
    address = make_address(street=street, zip_code=zip_code, city="Stadt", country_code=country)
    problems = address_problems(address)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_invalid_shipping_address_is_an_exception():
    order = _order(shipping=make_address(street="Heidestraße 17", city="Köln", country_code="DE"))
    (found,) = check_order(order, KNOWN)
    assert found.code == "invalid_address"
    assert "ZIP code is missing" in found.message


@pytest.mark.parametrize(
    ("customer", "billing", "keys"),
    [
        (make_customer(" Erika@Example.DE "), None, ("email:erika@example.de",)),
        (
            make_customer("abc@marketplace.amazon.de", "Erika Mustermann"),
            make_address(name="Erika Müßermann", street="Heidestr. 17", zip_code="51 147"),
            ("address:erikamuessermann|51147|heidestrasse17",),
        ),
        (
            make_customer("abc@members.ebay.de"),
            make_address(name="", street="", zip_code=""),
            ("address:erikamustermann|51147|heidestrasse17",),  # falls back to shipping
        ),
        (make_customer(""), make_address(), ("address:erikamustermann|51147|heidestrasse17",)),
    ],
)
def test_customer_match_keys(customer, billing, keys):
    order = _order(customer=customer, billing=billing or _order().billing)
    assert customer_match_keys(order) == keys


def test_spellings_of_the_same_street_match():
    a = _order(
        customer=make_customer("a@marketplace.amazon.de"),
        billing=make_address(name="Jörg Groß", street="Hauptstraße 5", zip_code="10115"),
    )
    b = _order(
        customer=make_customer("b@marketplace.amazon.de"),
        billing=make_address(name="jörg  gross", street="Hauptstr. 5", zip_code="10115"),
    )
    assert customer_match_keys(a) == customer_match_keys(b)


def test_no_usable_key_gives_none():
    order = _order(customer=make_customer(""), billing=make_address(), shipping=make_address())
    assert customer_match_keys(order) == ()
