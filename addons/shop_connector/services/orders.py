"""The normalized shop order every platform adapter maps into.

Money is :class:`~decimal.Decimal` everywhere, datetimes are timezone-aware UTC. The
adapters map the platform payload into :class:`ShopOrder` with pure functions; the Odoo
glue only ever sees this shape (plus ``raw``, the untouched platform payload).

Amount conventions (the order checks rely on them):

* ``total``, ``shipping_total``, ``discount_total`` and fee amounts are gross (tax
  included), as the customer paid them.
* ``discount_total`` holds *all* discounts of the order; ``ShopOrderLine.discount`` is
  the part of it allocated to that line (informational, never subtracted twice).
* ``ShopOrderLine.unit_price`` is gross when ``price_includes_tax`` is true, else net;
  :attr:`ShopOrderLine.gross_subtotal` converts with ``tax_rate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ...mail_crm_shop.services.errors import PermanentError

ORDER_STATUSES = ("pending", "open", "paid", "shipped", "cancelled", "refunded")
FEE_KINDS = ("cod", "voucher", "payment", "packaging", "other")
ZERO = Decimal(0)
CENT = Decimal("0.01")

# relay addresses of marketplaces: mail reaches the buyer, but says nothing about who it is
MASKED_EMAIL_DOMAINS = (
    "marketplace.amazon.",
    "members.ebay.",
    "kaufland-marketplace.",
    "relay.otto.",
)
# country names seen in German shop exports instead of ISO codes
COUNTRY_NAMES = {
    "deutschland": "DE",
    "germany": "DE",
    "österreich": "AT",
    "oesterreich": "AT",
    "austria": "AT",
    "schweiz": "CH",
    "switzerland": "CH",
    "niederlande": "NL",
    "netherlands": "NL",
    "belgien": "BE",
    "belgium": "BE",
    "luxemburg": "LU",
    "luxembourg": "LU",
    "frankreich": "FR",
    "france": "FR",
    "italien": "IT",
    "italy": "IT",
    "dänemark": "DK",
    "denmark": "DK",
    "polen": "PL",
    "poland": "PL",
}
_PACKSTATION_RE = re.compile(r"\b(pack\s*station|packstation|postfiliale|paketshop)\b", re.I)
_POST_NUMBER_RE = re.compile(r"\b(\d{6,10})\b")


@dataclass(frozen=True, slots=True)
class ShopCustomer:
    """Who ordered. ``is_masked_marketplace_email``: a relay address (Amazon, eBay)."""

    email: str = ""
    is_masked_marketplace_email: bool = False
    name: str = ""
    phone: str = ""
    company: str = ""


@dataclass(frozen=True, slots=True)
class ShopAddress:
    """A postal address; ``is_packstation`` with the DHL ``post_number`` (Postnummer)."""

    name: str = ""
    company: str = ""
    street: str = ""
    street2: str = ""
    zip: str = ""
    city: str = ""
    country_code: str = ""
    state: str = ""
    is_packstation: bool = False
    post_number: str = ""


@dataclass(frozen=True, slots=True)
class ShopOrderLine:
    """One ordered item. ``discount`` is this line's share of the order's discounts."""

    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    price_includes_tax: bool = True
    tax_rate: Decimal | None = None
    discount: Decimal = ZERO
    ean: str = ""
    external_id: str = ""

    @property
    def gross_subtotal(self) -> Decimal:
        """``quantity * unit_price`` with tax, before the line discount."""
        subtotal = self.quantity * self.unit_price
        if self.price_includes_tax or not self.tax_rate:
            return subtotal
        return subtotal * (1 + self.tax_rate / 100)


@dataclass(frozen=True, slots=True)
class ShopFee:
    """A charge or credit beside the lines: COD fee, voucher (negative), payment fee."""

    kind: str
    amount: Decimal
    label: str = ""


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """A shop or marketplace order, normalized. ``raw`` is the platform's own dict.

    ``shipping_method`` is the code of the shipping method as the shop names it (what a
    carrier mapping line of the backend matches), ``shipping_method_title`` its label
    shown to the customer, when the platform gives one; both empty when unknown.
    """

    external_id: str
    number: str
    created_at: datetime
    updated_at: datetime
    status: str
    payment_method: str
    is_paid: bool
    currency: str
    total: Decimal
    shipping_total: Decimal = ZERO
    discount_total: Decimal = ZERO
    customer: ShopCustomer = field(default_factory=ShopCustomer)
    billing: ShopAddress = field(default_factory=ShopAddress)
    shipping: ShopAddress = field(default_factory=ShopAddress)
    lines: tuple[ShopOrderLine, ...] = ()
    fees: tuple[ShopFee, ...] = ()
    customer_note: str = ""
    shipping_method: str = ""
    shipping_method_title: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if not self.external_id:
            raise PermanentError("order without an external id")
        if self.status not in ORDER_STATUSES:
            raise PermanentError(f"order {self.external_id}: unknown status {self.status!r}")
        for fee in self.fees:
            if fee.kind not in FEE_KINDS:
                raise PermanentError(f"order {self.external_id}: unknown fee kind {fee.kind!r}")

    @property
    def order_level_discount(self) -> Decimal:
        """The part of ``discount_total`` not allocated to a line (e.g. a cart coupon)."""
        return self.discount_total - sum((line.discount for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class UnmappedOrder:
    """A fetched order whose payload could not be mapped: kept, never dropped.

    The glue stores ``raw`` under ``external_id`` as a failed import with ``error``, so
    a person sees it and it can be mapped again once the cause is fixed.
    """

    external_id: str
    error: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of fetched orders; the glue stores ``next_cursor`` after committing it.

    ``next_cursor`` resumes right after this page; on the last page of a run it is
    where the next incremental run starts. ``None`` means: keep the cursor you have.
    ``unmapped`` holds the orders of the page that could not be mapped.
    """

    orders: tuple[ShopOrder, ...]
    next_cursor: str | None
    has_more: bool = False
    unmapped: tuple[UnmappedOrder, ...] = ()


def to_decimal(value: Any, what: str = "amount") -> Decimal:
    """Parse a platform amount (str, int, float, Decimal; ``,`` or ``.`` decimals)."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise PermanentError(f"{what}: {value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text and text.rfind(".") > text.rfind(","):
        text = text.replace(",", "")  # English "1,234.56"
    elif "," in text:
        # German "1.234,56" or "12,50": the comma is the decimal separator
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise PermanentError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise PermanentError(f"{what}: {value!r} is not a finite number")
    return number


def money(mapping: Mapping[str, Any] | None, key: str = "Amount") -> Decimal:
    """Amount of a ``{"CurrencyCode": .., "Amount": ..}``-like dict; missing is zero."""
    if not mapping:
        return ZERO
    return to_decimal(mapping.get(key), key)


def parse_datetime(value: Any, what: str = "date") -> datetime:
    """Parse an ISO 8601 / RFC 3339 timestamp into aware UTC (naive means UTC)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value or "").strip()
        if not text:
            raise PermanentError(f"{what}: missing")
        text = text.replace(" ", "T", 1) if "T" not in text and " " in text else text
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise PermanentError(f"{what}: {value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_datetime(value: datetime) -> str:
    """UTC timestamp as ``2024-07-01T12:00:00Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_masked_marketplace_email(email: str) -> bool:
    """Whether ``email`` is a marketplace relay address (Amazon, eBay, Kaufland...)."""
    domain = (email or "").rpartition("@")[2].lower()
    return any(domain.startswith(d) or f".{d}" in f".{domain}" for d in MASKED_EMAIL_DOMAINS)


def make_customer(
    email: str = "", name: str = "", phone: str = "", company: str = ""
) -> ShopCustomer:
    """Build a :class:`ShopCustomer` with stripped fields and relay detection."""
    email = (email or "").strip()
    return ShopCustomer(
        email=email,
        is_masked_marketplace_email=is_masked_marketplace_email(email),
        name=(name or "").strip(),
        phone=(phone or "").strip(),
        company=(company or "").strip(),
    )


def detect_packstation(*texts: str) -> tuple[bool, str]:
    """Whether the address lines name a DHL Packstation/Postfiliale, and its Postnummer.

    The Postnummer is the 6-10 digit customer number DHL requires for these addresses.
    """
    joined = " ".join(t for t in texts if t)
    if not _PACKSTATION_RE.search(joined):
        return False, ""
    # the station number is 3 digits; the Postnummer is the long digit run
    match = _POST_NUMBER_RE.search(joined)
    return True, match.group(1) if match else ""


def make_address(
    *,
    name: str = "",
    company: str = "",
    street: str = "",
    street2: str = "",
    zip_code: str = "",
    city: str = "",
    country_code: str = "",
    state: str = "",
) -> ShopAddress:
    """Build a :class:`ShopAddress` with stripped fields and packstation detection."""
    clean = [(v or "").strip() for v in (name, company, street, street2, zip_code, city)]
    name, company, street, street2, zip_code, city = clean
    is_packstation, post_number = detect_packstation(street, street2, company)
    return ShopAddress(
        name=name,
        company=company,
        street=street,
        street2=street2,
        zip=zip_code,
        city=city,
        country_code=country_iso_code(country_code),
        state=(state or "").strip(),
        is_packstation=is_packstation,
        post_number=post_number,
    )


def country_iso_code(value: str | None) -> str:
    """ISO 3166 alpha-2 code of ``value`` (a code or a common German/English name)."""
    text = (value or "").strip()
    if len(text) == 2:
        return text.upper()
    return COUNTRY_NAMES.get(text.casefold(), text.upper())


def join_name(*parts: str | None) -> str:
    """``"Erika", None, "Mustermann"`` → ``"Erika Mustermann"``."""
    return " ".join(p.strip() for p in parts if p and p.strip())
