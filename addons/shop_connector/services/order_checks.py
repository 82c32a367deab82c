"""Checks an imported order must pass before it is processed without a person.

:func:`check_order` returns the reasons to look at an order (an empty tuple: nothing to
see). Each :class:`OrderException` has a stable ``code`` (the glue translates and
filters by it) and an English explanation with the details.
:func:`customer_match_keys` gives the keys to find an existing customer.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from .orders import ZERO, ShopAddress, ShopOrder

EXCEPTION_CODES = (
    "customer_note",
    "packstation_bulky",
    "packstation_post_number",
    "unknown_product",
    "totals_mismatch",
    "possible_duplicate",
    "invalid_address",
)

ZIP_PATTERNS = {
    "DE": r"\d{5}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "LI": r"\d{4}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "BE": r"\d{4}",
    "LU": r"(L-)?\d{4}",
    "DK": r"\d{4}",
    "FR": r"\d{5}",
    "IT": r"\d{5}",
    "ES": r"\d{5}",
    "PL": r"\d{2}-\d{3}",
    "CZ": r"\d{3} ?\d{2}",
    "SE": r"\d{3} ?\d{2}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "US": r"\d{5}(-\d{4})?",
}
# countries where a street address without a house number is almost always a mistake
HOUSE_NUMBER_COUNTRIES = frozenset({"DE", "AT", "CH", "NL"})


@dataclass(frozen=True, slots=True)
class OrderException:
    """Why an order needs a person: a stable ``code`` and a human ``message``."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Tunable limits of :func:`check_order`."""

    total_tolerance: Decimal = Decimal("0.02")
    duplicate_window: timedelta = timedelta(hours=24)
    check_house_number: bool = True


def check_order(
    order: ShopOrder,
    known_skus: Collection[str],
    *,
    known_eans: Collection[str] = frozenset(),
    bulky_skus: Collection[str] = frozenset(),
    recent_orders: Iterable[ShopOrder] = (),
    settings: CheckSettings | None = None,
) -> tuple[OrderException, ...]:
    """Return every reason to look at ``order`` before processing it.

    ``known_skus``/``known_eans``: the catalogue; ``bulky_skus``: products a Packstation
    cannot take; ``recent_orders``: orders to compare against for duplicates (the glue
    passes the customer's orders of the last days; ``order`` itself is ignored there).
    """
    settings = settings or CheckSettings()
    found: list[OrderException] = []
    if order.customer_note.strip():
        found.append(
            OrderException("customer_note", f"The customer wrote: {order.customer_note.strip()}")
        )
    found.extend(_check_packstation(order, bulky_skus))
    found.extend(_check_products(order, known_skus, known_eans))
    found.extend(_check_totals(order, settings.total_tolerance))
    found.extend(_check_duplicate(order, recent_orders, settings.duplicate_window))
    problems = address_problems(order.shipping, settings.check_house_number)
    if problems:
        found.append(OrderException("invalid_address", "Shipping address: " + "; ".join(problems)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class StockNeed:
    """What one delivery line of a confirmed order needs and what the warehouse reserved."""

    product: str
    wanted: Decimal
    reserved: Decimal
    unit: str = ""


def check_stock(needs: Iterable[StockNeed]) -> OrderException | None:
    """The ``stock_shortfall`` of the lines not reserved in full (None: all reserved)."""
    short = [need for need in needs if need.reserved < need.wanted]
    if not short:
        return None
    parts = [
        f"{need.product}: {_qty(need.wanted)} {need.unit} ordered, only {_qty(need.reserved)}"
        f" {need.unit} in stock".replace("  ", " ")
        for need in short
    ]
    return OrderException("stock_shortfall", "Stock shortfall: " + "; ".join(parts))


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def expected_total(order: ShopOrder) -> Decimal:
    """Lines (gross) + shipping + fees - discounts: what ``order.total`` should be."""
    lines = sum((line.gross_subtotal for line in order.lines), ZERO)
    fees = sum((fee.amount for fee in order.fees), ZERO)
    return lines + order.shipping_total + fees - order.discount_total


def address_problems(address: ShopAddress, check_house_number: bool = True) -> list[str]:
    """What is wrong with ``address`` for a parcel label (empty list: looks fine)."""
    problems = [
        f"{label} is missing"
        for label, value in (
            ("street", address.street),
            ("ZIP code", address.zip),
            ("city", address.city),
            ("country", address.country_code),
        )
        if not value.strip()
    ]
    if address.country_code and not re.fullmatch(r"[A-Z]{2}", address.country_code):
        problems.append(f"country {address.country_code!r} is not an ISO 3166 code")
    pattern = ZIP_PATTERNS.get(address.country_code)
    zip_code = address.zip.strip().upper()
    if pattern and zip_code and not re.fullmatch(pattern, zip_code):
        problems.append(f"ZIP code {address.zip!r} is not valid in {address.country_code}")
    if (
        check_house_number
        and address.street.strip()
        and address.country_code in HOUSE_NUMBER_COUNTRIES
        and not address.is_packstation
        and not re.search(r"\d", address.street + " " + address.street2)
    ):
        problems.append(f"street {address.street!r} has no house number")
    return problems


def customer_match_keys(order: ShopOrder) -> tuple[str, ...]:
    """Keys identifying the customer: the normalized e-mail, or for marketplace relay
    addresses (which change per order) name + ZIP + street of the billing address
    (the shipping address when there is no billing address)."""
    email = order.customer.email.strip().casefold()
    if email and "@" in email and not order.customer.is_masked_marketplace_email:
        return (f"email:{email}",)
    address = order.billing if order.billing.street and order.billing.zip else order.shipping
    name = _normalize(address.name or order.customer.name)
    street = _normalize(address.street)
    zip_code = re.sub(r"\s", "", address.zip.upper())
    if not (name and street and zip_code):
        return ()
    return (f"address:{name}|{zip_code}|{street}",)


def _normalize(text: str) -> str:
    """Casefolded, umlauts spelled out, ``Str.`` = ``Straße``, only letters and digits."""
    text = text.casefold().replace("ß", "ss")
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, spelled)
    text = re.sub(r"str\.", "strasse", text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum())


def _check_packstation(order: ShopOrder, bulky_skus: Collection[str]):
    if not order.shipping.is_packstation:
        return
    bulky = sorted({line.sku for line in order.lines if line.sku in bulky_skus})
    if bulky:
        yield OrderException(
            "packstation_bulky",
            f"Ships to a Packstation/post office, but {', '.join(bulky)} does not fit there.",
        )
    if not order.shipping.post_number:
        yield OrderException(
            "packstation_post_number",
            "Ships to a Packstation/post office without the DHL Postnummer of the customer.",
        )


def _check_products(order: ShopOrder, known_skus, known_eans):
    for line in order.lines:
        if (line.sku and line.sku in known_skus) or (line.ean and line.ean in known_eans):
            continue
        ident = " / ".join(x for x in (line.sku, line.ean) if x) or "no SKU or EAN"
        yield OrderException("unknown_product", f"Unknown product {line.name!r} ({ident}).")


def _check_totals(order: ShopOrder, tolerance: Decimal):
    expected = expected_total(order)
    if abs(expected - order.total) > tolerance:
        yield OrderException(
            "totals_mismatch",
            f"The shop's total {order.total} {order.currency} differs from lines + shipping"
            f" + fees - discounts = {expected.quantize(Decimal('0.01'))} {order.currency}"
            f" by more than {tolerance}.",
        )


def _line_signature(order: ShopOrder) -> Counter:
    signature: Counter = Counter()
    for line in order.lines:
        signature[line.sku or line.ean or line.name] += line.quantity
    return signature


def _check_duplicate(order: ShopOrder, recent: Iterable[ShopOrder], window: timedelta):
    keys = set(customer_match_keys(order))
    if not keys or not order.lines:
        return
    signature = _line_signature(order)
    for other in recent:
        if (
            other.external_id == order.external_id
            or other.status == "cancelled"
            or abs(other.created_at - order.created_at) > window
            or not keys & set(customer_match_keys(other))
            or _line_signature(other) != signature
        ):
            continue
        yield OrderException(
            "possible_duplicate",
            f"Same customer and same items as order {other.number or other.external_id}"
            f" of {other.created_at:%Y-%m-%d %H:%M} UTC.",
        )
        return
