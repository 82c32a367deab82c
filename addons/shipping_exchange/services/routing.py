"""Which exchange profile serves a delivery: the first routing rule whose conditions hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    """What the rules look at. ``category_ids``: product categories incl. their parents."""

    weight_kg: Decimal
    volume_m3: Decimal
    country: str
    packstation: bool
    category_ids: frozenset[int]
    team_id: int | None
    order_amount: Decimal | None
    longest_side_cm: Decimal = Decimal(0)  # the longest side of the largest product


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule; a zero limit or an empty set means "no condition"."""

    rule_id: int
    profile_id: int
    max_weight_kg: Decimal = Decimal(0)
    max_volume_m3: Decimal = Decimal(0)
    max_length_cm: Decimal = Decimal(0)
    countries: frozenset[str] = frozenset()
    packstation_allowed: bool = True
    category_ids: frozenset[int] = frozenset()
    team_ids: frozenset[int] = frozenset()
    min_amount: Decimal = Decimal(0)
    max_amount: Decimal = Decimal(0)


def rule_refusal(rule: RuleSpec, facts: DeliveryFacts) -> str:
    """Why ``rule`` cannot serve the delivery ("" when it can)."""
    if rule.max_weight_kg and facts.weight_kg > rule.max_weight_kg:
        return f"weight {facts.weight_kg} kg > {rule.max_weight_kg} kg"
    if rule.max_volume_m3 and facts.volume_m3 > rule.max_volume_m3:
        return f"volume {facts.volume_m3} m3 > {rule.max_volume_m3} m3"
    if rule.max_length_cm and facts.longest_side_cm > rule.max_length_cm:
        return f"longest side {facts.longest_side_cm} cm > {rule.max_length_cm} cm"
    if rule.countries and facts.country not in rule.countries:
        return f"country {facts.country or '?'} not served"
    if facts.packstation and not rule.packstation_allowed:
        return "no Packstation delivery"
    if rule.category_ids and not facts.category_ids & rule.category_ids:
        return "product category not served"
    if rule.team_ids and facts.team_id not in rule.team_ids:
        return "other shop"
    amount = facts.order_amount
    if rule.min_amount and (amount is None or amount < rule.min_amount):
        return f"order value below {rule.min_amount}"
    if rule.max_amount and amount is not None and amount > rule.max_amount:
        return f"order value above {rule.max_amount}"
    return ""


def route(rules: Iterable[RuleSpec], facts: DeliveryFacts) -> tuple[int | None, tuple[str, ...]]:
    """Return the profile id of the first rule (in the given order) that serves ``facts``,
    or ``None`` and the reason each rule refused."""
    reasons = []
    for rule in rules:
        refusal = rule_refusal(rule, facts)
        if not refusal:
            return rule.profile_id, ()
        reasons.append(f"rule {rule.rule_id}: {refusal}")
    return None, tuple(reasons)
