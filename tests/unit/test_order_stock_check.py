"""check_stock: the lines the warehouse could not reserve in full."""

from __future__ import annotations

from decimal import Decimal

from shopaddons.shop_connector.services.order_checks import StockNeed, check_stock

D = Decimal


def test_all_reserved_is_no_exception():
    assert check_stock([StockNeed("Mug", D(2), D(2), "Units")]) is None
    assert check_stock([]) is None


def test_shortfall_names_every_short_line():
    found = check_stock(
        [
            StockNeed("Rare vase", D("3.000"), D("1.000"), "Units"),
            StockNeed("Mug", D(2), D(2), "Units"),
            StockNeed("Cable", D("2.5"), D(0), "m"),
        ]
    )
    assert found is not None
    assert found.code == "stock_shortfall"
    assert found.message == (
        "Stock shortfall: Rare vase: 3 Units ordered, only 1 Units in stock; "
        "Cable: 2.5 m ordered, only 0 m in stock"
    )
    assert "Mug" not in found.message


def test_without_unit_the_text_has_no_double_spaces():
    found = check_stock([StockNeed("Vase", D(300), D(100))])
    assert found is not None
    assert found.message == "Stock shortfall: Vase: 300 ordered, only 100 in stock"
