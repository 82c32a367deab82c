import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.review_request.services.routing import (
    Line,
    Platform,
    RoutedLink,
    Rule,
    best_rule,
    route,
)

SHOP, GOOGLE, AMAZON = Platform(1, True), Platform(2, False), Platform(3, True)
PLATFORMS = (SHOP, GOOGLE, AMAZON)
FALLBACK = Rule(1, GOOGLE.id)
TEA = Line(product_id=10, category_path=(100, 101))  # Tea < Drinks
MUG = Line(product_id=20, category_path=(200,))


def test_fallback_when_nothing_specific_matches():
    assert route([TEA], None, [FALLBACK], PLATFORMS) == (RoutedLink(GOOGLE.id, None, 1),)


@pytest.mark.parametrize(
    ("rules", "winner"),
    [
        ([FALLBACK, Rule(2, SHOP.id, team_id=7)], 2),
        ([Rule(2, SHOP.id, team_id=7), Rule(3, AMAZON.id, category_id=101)], 3),
        ([Rule(3, AMAZON.id, category_id=101), Rule(4, SHOP.id, category_id=100)], 4),
        ([Rule(4, SHOP.id, category_id=100), Rule(5, AMAZON.id, product_id=10)], 5),
        ([Rule(5, AMAZON.id, product_id=10), Rule(6, SHOP.id, product_id=10, team_id=7)], 6),
        ([Rule(7, SHOP.id, sequence=5), Rule(8, AMAZON.id, sequence=1)], 8),
    ],
)
def test_specificity_order(rules, winner):
    assert best_rule(rules, TEA, team_id=7).id == winner


def test_team_rule_does_not_match_other_teams():
    rules = [FALLBACK, Rule(2, SHOP.id, team_id=7), Rule(3, AMAZON.id, product_id=10, team_id=8)]
    assert best_rule(rules, TEA, team_id=9).id == 1
    assert best_rule(rules, TEA, team_id=None).id == 1


def test_parent_category_matches():
    rules = [FALLBACK, Rule(2, AMAZON.id, category_id=101)]
    assert best_rule(rules, TEA, None).id == 2
    assert best_rule(rules, MUG, None).id == 1


def test_one_link_per_product_on_product_platforms():
    rules = [FALLBACK, Rule(2, AMAZON.id, product_id=10), Rule(3, SHOP.id, product_id=20)]
    assert route([TEA, MUG, TEA], None, rules, PLATFORMS) == (
        RoutedLink(AMAZON.id, 10, 2),
        RoutedLink(SHOP.id, 20, 3),
    )


def test_shop_level_platform_gets_one_link_per_order():
    assert route([TEA, MUG], None, [FALLBACK], PLATFORMS) == (RoutedLink(GOOGLE.id, None, 1),)


def test_mixed_order():
    rules = [FALLBACK, Rule(2, SHOP.id, category_id=200)]
    assert route([TEA, MUG], None, rules, PLATFORMS) == (
        RoutedLink(GOOGLE.id, None, 1),
        RoutedLink(SHOP.id, 20, 2),
    )


def test_order_without_products_uses_order_level_rules():
    rules = [Rule(2, SHOP.id, team_id=7), Rule(3, AMAZON.id, product_id=10)]
    assert route([], 7, rules, PLATFORMS) == (RoutedLink(SHOP.id, None, 2),)


def test_no_rule_at_all_is_a_clear_error():
    with pytest.raises(PermanentError, match="no general link"):
        route([TEA], None, [Rule(2, SHOP.id, product_id=99)], PLATFORMS)


def test_unknown_platform_is_an_error():
    with pytest.raises(PermanentError, match="unknown platform"):
        route([TEA], None, [Rule(2, 42)], PLATFORMS)
