"""Which review platform's link goes into the invitation for an order.

Rules are plain data. For each product of the order the most specific matching rule
wins: product > product category (the nearest category first, parents count) > sales
team > general fallback; a rule restricted to a team only matches orders of that team
and beats the same rule without a team. Ties go to the lower ``sequence``, then id.
Products sold on a platform that takes product reviews get one link each; other
platforms get one shop-level link per order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...mail_crm_shop.services.errors import PermanentError


@dataclass(frozen=True, slots=True)
class Rule:
    """One routing rule; ``None`` criteria match anything."""

    id: int
    platform_id: int
    product_id: int | None = None
    category_id: int | None = None
    team_id: int | None = None
    sequence: int = 10


@dataclass(frozen=True, slots=True)
class Platform:
    id: int
    supports_product_reviews: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    """A product of the order; ``category_path`` is its category then its parents."""

    product_id: int
    category_path: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutedLink:
    """One link to put in the mail; ``product_id`` is None for a shop-level link."""

    platform_id: int
    product_id: int | None
    rule_id: int


def _score(rule: Rule, line: Line | None, team_id: int | None) -> tuple | None:
    """Specificity of ``rule`` for ``line``, or None when it does not match."""
    if rule.team_id is not None and rule.team_id != team_id:
        return None
    product_score = 0
    category_score = 0
    if rule.product_id is not None:
        if line is None or rule.product_id != line.product_id:
            return None
        product_score = 1
    if rule.category_id is not None:
        if line is None or rule.category_id not in line.category_path:
            return None
        # nearer categories are more specific: depth 0 (own category) scores highest
        category_score = len(line.category_path) - line.category_path.index(rule.category_id)
    team_score = 1 if rule.team_id is not None else 0
    return (product_score, category_score, team_score, -rule.sequence, -rule.id)


def best_rule(rules: Iterable[Rule], line: Line | None, team_id: int | None) -> Rule | None:
    """Return the most specific rule matching ``line`` (or the order when None)."""
    scored = [(score, rule) for rule in rules if (score := _score(rule, line, team_id))]
    return max(scored, key=lambda item: item[0])[1] if scored else None


def route(
    lines: Sequence[Line],
    team_id: int | None,
    rules: Sequence[Rule],
    platforms: Iterable[Platform],
) -> tuple[RoutedLink, ...]:
    """Return the links for an order, in line order, without duplicates.

    Raises :class:`PermanentError` when no rule matches at all (no general fallback
    configured) or a rule names an unknown platform.
    """
    by_id = {platform.id: platform for platform in platforms}
    links: list[RoutedLink] = []
    seen = set()
    for line in lines or [None]:
        rule = best_rule(rules, line, team_id)
        if rule is None:
            continue
        platform = by_id.get(rule.platform_id)
        if platform is None:
            raise PermanentError(f"rule {rule.id} names unknown platform {rule.platform_id}")
        product_id = line.product_id if line and platform.supports_product_reviews else None
        key = (platform.id, product_id)
        if key not in seen:
            seen.add(key)
            links.append(RoutedLink(platform.id, product_id, rule.id))
    if not links:
        raise PermanentError("no review rule matches this order and no general link is set")
    return tuple(links)
