"""The status column of CSV order files, translated with a shop's status mapping."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.files import YATEGO_MAPPING, parse_yatego_csv
from shopaddons.shop_connector.services.csv_status import (
    StatusMap,
    map_status,
    normalize_status_value,
)
from shopaddons.shop_connector.services.order_generic import orders_from_csv
from shopaddons.shop_connector.services.orders import ORDER_STATUSES

from ..conftest import DATA_DIR

YATEGO_FILE = DATA_DIR / "shops" / "yatego" / "orders_cp1252.csv"
SHOP_MAP = StatusMap([("Bezahlt", "paid"), ("In Bearbeitung", "open"), ("Storno", "cancelled")])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bezahlt", "paid"),
        ("bezahlt", "paid"),
        ("  BEZAHLT ", "paid"),
        ("in  bearbeitung", "open"),
        ("Storno", "cancelled"),
        ("", "open"),  # no status in the file: the default
        ("   ", "open"),
        ("shipped", "shipped"),  # our own names are always understood
        ("Refunded", "refunded"),
    ],
)
def test_map_status(value, expected):
    assert map_status(value, SHOP_MAP) == expected


def test_an_unknown_value_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(PermanentError) as caught:
        map_status("Zurückgestellt", SHOP_MAP)
    message = str(caught.value)
    assert "'Zurückgestellt'" in message
    assert "status mapping" in message
    assert "'Bezahlt', 'In Bearbeitung', 'Storno'" in message


def test_an_empty_mapping_knows_only_our_names():
    assert map_status("paid", StatusMap()) == "paid"
    with pytest.raises(PermanentError, match="known: none"):
        map_status("bezahlt", StatusMap())


def test_the_default_status_is_the_callers():
    assert map_status("", SHOP_MAP, default="pending") == "pending"


def test_a_plain_mapping_is_compared_exactly():
    assert map_status("neu", {"neu": "open"}) == "open"
    with pytest.raises(PermanentError, match="'Neu'"):
        map_status("Neu", {"neu": "open"})


def test_status_map_refuses_a_status_we_do_not_have():
    with pytest.raises(PermanentError, match="'done'"):
        StatusMap([("fertig", "done")])


def test_status_map_refuses_one_value_with_two_meanings():
    with pytest.raises(PermanentError, match="both 'paid' and 'shipped'"):
        StatusMap([("Bezahlt", "paid"), ("bezahlt ", "shipped")])
    # the same meaning twice is harmless
    assert len(StatusMap([("Bezahlt", "paid"), ("bezahlt", "paid")])) == 1


def test_status_map_refuses_an_empty_value():
    with pytest.raises(PermanentError, match="no shop value"):
        StatusMap([("  ", "paid")])


def test_status_map_is_a_mapping_of_the_values_as_written():
    assert dict(SHOP_MAP) == {"Bezahlt": "paid", "In Bearbeitung": "open", "Storno": "cancelled"}
    assert "BEZAHLT" in SHOP_MAP
    assert SHOP_MAP.get("nix") is None


@given(st.text(max_size=20))
def test_normalizing_ignores_case_and_spaces(value):
    assert normalize_status_value(value) == normalize_status_value(f"  {value.upper()} ")


@given(st.text(max_size=20))
def test_map_status_answers_one_of_our_statuses_or_refuses(value):
    try:
        status = map_status(value, SHOP_MAP)
    except PermanentError as exc:
        assert "unknown order status" in str(exc)
    else:
        assert status in ORDER_STATUSES


# --- used when CSV order files are read ----------------------------------------------


def test_yatego_file_with_the_shops_own_map():
    custom = StatusMap([("Bezahlt", "shipped"), ("NEU", "pending")])
    first, second = parse_yatego_csv(
        YATEGO_FILE.read_bytes(), replace(YATEGO_MAPPING, status_map=custom)
    )
    assert (first.status, first.is_paid) == ("shipped", True)
    assert (second.status, second.is_paid) == ("pending", False)


def test_yatego_file_with_an_unknown_status_names_it():
    data = YATEGO_FILE.read_bytes().replace(b";neu;", b";zurueckgestellt;", 1)
    with pytest.raises(PermanentError, match="unknown order status 'zurueckgestellt'"):
        orders_from_csv(data, YATEGO_MAPPING)
