"""The carrier's portal entry: tracking numbers and shipped quantities per line."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.shipping_exchange.services.portal_entry import (
    EntryError,
    PortalEntry,
    check_portal_entry,
    split_tracking,
)

ORDERED = {11: Decimal(2), 12: Decimal("1.5")}


def test_defaults_ship_everything_ordered():
    entry = check_portal_entry("00340434161234567890", {}, ORDERED)
    assert entry == PortalEntry(
        ("00340434161234567890",), ((11, Decimal(2)), (12, Decimal("1.5"))), False
    )


def test_less_than_ordered_is_partial_and_zero_leaves_a_line_out():
    entry = check_portal_entry("T-1\nT-2", {11: "1", 12: "0"}, ORDERED)
    assert entry.quantities == ((11, Decimal(1)), (12, Decimal(0)))
    assert entry.partial
    assert entry.tracking_refs == ("T-1", "T-2")


def test_german_decimal_comma():
    assert check_portal_entry("T", {12: "1,5"}, ORDERED).quantities[1] == (12, Decimal("1.5"))


@pytest.mark.parametrize(
    ("entered", "code"),
    [
        ({11: "3"}, "above_ordered"),
        ({12: "1.6"}, "above_ordered"),
        ({11: "-1"}, "negative"),
        ({11: "zwei"}, "not_a_number"),
        ({11: ""}, "not_a_number"),
        ({11: "NaN"}, "not_a_number"),
        ({11: "Infinity"}, "not_a_number"),
        ({99: "1"}, "unknown_line"),
        ({11: "0", 12: "0"}, "nothing_shipped"),
    ],
)
def test_wrong_quantities_refuse_the_whole_entry(entered, code):
    with pytest.raises(EntryError) as caught:
        check_portal_entry("T-1", entered, ORDERED)
    assert caught.value.code == code


def test_the_limit_is_reported_with_the_line():
    with pytest.raises(EntryError) as caught:
        check_portal_entry("T-1", {11: "5"}, ORDERED)
    assert (caught.value.subject, caught.value.limit) == (11, Decimal(2))


@pytest.mark.parametrize(
    ("tracking", "code"),
    [
        ("", "no_tracking"),
        (" \n , ; ", "no_tracking"),
        ("X" * 101, "bad_tracking"),
        ("T-1\tT-2", "bad_tracking"),
        ("\n".join(f"T-{i}" for i in range(21)), "too_many_parcels"),
    ],
)
def test_wrong_tracking_numbers(tracking, code):
    with pytest.raises(EntryError) as caught:
        check_portal_entry(tracking, {}, ORDERED)
    assert caught.value.code == code


def test_split_tracking_keeps_order_and_drops_repeats():
    assert split_tracking(" A1 ,B2;\r\nA1\n\nC3 ") == ("A1", "B2", "C3")


@given(st.dictionaries(st.sampled_from([11, 12]), st.text(max_size=8)))
def test_any_typing_gives_an_entry_within_the_order_or_an_entry_error(entered):
    try:
        entry = check_portal_entry("T-1", entered, ORDERED)
    except EntryError:
        return
    for line, qty in entry.quantities:
        assert 0 <= qty <= ORDERED[line]
    assert any(qty for _line, qty in entry.quantities)
