"""The orders, payments and customer mails of one simulated shop day, with ground truth.

Pure: no I/O, no clock (the day's start is passed in), seeded randomness. The payloads
follow the documented formats of the sample files in ``tests/data/shops`` (Shopify Admin
REST, WooCommerce REST v3, eBay Sell Fulfillment v1).

The orders come from two shops and a marketplace, four to three to three: Shopify,
WooCommerce and eBay. eBay buyers pay at eBay (the order is paid when it is listed) and
eBay gives their orders a masked relay address (``…@members.ebay.com``), which the
connector does not store: the shop cannot mail those buyers itself, so invoice mails and
review invitations do not apply to marketplace orders, and the exceptions that depend on
such mails (an unpaid prepayment, a bounce, an angry answer) are planted in shop orders.

Planted exceptions (about 5 % of the orders, at least one of every kind):

=====================  =========================================================
``customer_note``      the customer wrote a comment on the order
``packstation_bulky``  a bulky product to a DHL Packstation
``unknown_product``    a SKU the catalogue does not know
``stock_shortfall``    more pieces of a product than the warehouse has
``totals_mismatch``    the shop's total differs from its lines by 5 EUR
``unpaid_prepayment``  prepayment, but the money never arrives
``missing_confirmation``  the carrier never confirms the parcel
``bounced_invoice``    the customer's mailbox does not exist: the mails bounce
``unhappy_review``     the customer answers the review invitation angrily
=====================  =========================================================
"""

from __future__ import annotations

import copy
import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

EXCEPTION_KINDS = (
    "customer_note",
    "packstation_bulky",
    "unknown_product",
    "stock_shortfall",
    "totals_mismatch",
    "unpaid_prepayment",
    "missing_confirmation",
    "bounced_invoice",
    "unhappy_review",
)
PLATFORMS = ("shopify", "woocommerce", "ebay")
MARKETPLACES = ("ebay",)
# the channel of order ``index`` by its last digit: 40 % Shopify, 30 % WooCommerce, 30 % eBay
CHANNEL_PATTERN = (
    "shopify",
    "woocommerce",
    "ebay",
    "shopify",
    "woocommerce",
    "ebay",
    "shopify",
    "woocommerce",
    "ebay",
    "shopify",
)
PAYMENTS = ("paypal", "prepayment", "invoice")
MARKETPLACE_PAYMENT = "marketplace_paid"
# planted only in shop orders: they need the shop's own mails to the customer
NEEDS_CUSTOMER_MAIL = ("unpaid_prepayment", "bounced_invoice", "unhappy_review")
# the shop's own payment codes, mapped on the backends (see runner.py)
PAYMENT_CODES = {
    "shopify": {"paypal": "paypal", "prepayment": "bank_deposit", "invoice": "Rechnungskauf"},
    "woocommerce": {"paypal": "ppcp-gateway", "prepayment": "bacs", "invoice": "invoice"},
    "ebay": {MARKETPLACE_PAYMENT: "EBAY"},
}
CATALOGUE = tuple(f"SD-{n:03d}" for n in range(1, 25))
BULKY_SKU = "SD-SCHRANK"
SCARCE_SKU = "SD-RAR"
SCARCE_STOCK = 1
PRICES = (Decimal("11.90"), Decimal("23.80"), Decimal("35.70"), Decimal("59.50"))
SHIPPING = Decimal("4.90")
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "shops"
CARRIER_BY_PLATFORM = {"shopify": "ftp", "woocommerce": "sftp", "ebay": "ftp"}
MAIL_CARRIER_COUNTRY = "AT"
CITIES = {
    "DE": [("10115", "Berlin"), ("50667", "Köln"), ("80331", "München"), ("20095", "Hamburg")],
    "AT": [("1010", "Wien"), ("8010", "Graz"), ("5020", "Salzburg")],
}
FIRST = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannes", "Ida", "Jonas")
LAST = ("Schmidt", "Müller", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter")


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal  # gross, 19 % VAT included


@dataclass(slots=True)
class Order:
    """One order of the day and what should become of it."""

    index: int
    platform: str
    external_id: str
    number: str
    created_at: datetime
    email: str
    first_name: str
    last_name: str
    street: str
    street2: str
    zip: str
    city: str
    country: str
    payment: str
    lines: tuple[Line, ...]
    planted: str | None = None
    note: str = ""
    total_offset: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        goods = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        return goods + SHIPPING + self.total_offset

    @property
    def carrier(self) -> str:
        """Which simulated carrier gets the parcel (the routing rules in runner.py)."""
        if self.country == MAIL_CARRIER_COUNTRY:
            return "email"
        return CARRIER_BY_PLATFORM[self.platform]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_marketplace(self) -> bool:
        """A marketplace order: paid at the marketplace, the buyer's address masked."""
        return self.platform in MARKETPLACES


@dataclass(frozen=True, slots=True)
class CustomerMail:
    """A mail a customer sends to the shop's shared mailbox during the day."""

    order_index: int
    subject: str
    body: str


@dataclass(slots=True)
class Day:
    start: datetime
    orders: list[Order]
    customer_mails: list[CustomerMail] = field(default_factory=list)

    def planted(self) -> dict[str, list[Order]]:
        found: dict[str, list[Order]] = {kind: [] for kind in EXCEPTION_KINDS}
        for order in self.orders:
            if order.planted:
                found[order.planted].append(order)
        return found

    def by_platform(self, platform: str) -> list[Order]:
        return [o for o in self.orders if o.platform == platform]


def planted_count(size: int, share: float = 0.05) -> int:
    """About ``share`` of ``size``, but every kind at least once (small days)."""
    return min(size, max(round(size * share), len(EXCEPTION_KINDS)))


def make_day(size: int, seed: int, start: datetime) -> Day:
    """``size`` orders spread over the morning of ``start`` with planted exceptions."""
    rng = random.Random(seed)
    planted_total = planted_count(size)
    kinds = [EXCEPTION_KINDS[i % len(EXCEPTION_KINDS)] for i in range(planted_total)]
    # the kinds that need the shop's mails to the customer go to shop orders first
    kinds.sort(key=lambda kind: kind not in NEEDS_CUSTOMER_MAIL)
    shop_slots = [i for i in range(size) if channel(i) not in MARKETPLACES]
    wanted = sum(1 for kind in kinds if kind in NEEDS_CUSTOMER_MAIL)
    slots = rng.sample(shop_slots, min(wanted, len(shop_slots)))
    taken = set(slots)
    slots += rng.sample([i for i in range(size) if i not in taken], planted_total - len(slots))
    plan = dict(zip(slots, kinds, strict=True))
    orders = []
    for index in range(size):
        orders.append(_make_order(rng, index, start, plan.get(index)))
    # customers write when their order is stuck: the parcel does not come
    stuck = ("missing_confirmation", "stock_shortfall")
    mails = [
        CustomerMail(
            o.index,
            f"Wo bleibt meine Bestellung {o.number}?",
            f"Guten Tag,\nmeine Bestellung {o.number} ist noch nicht da. Wann kommt sie?\n"
            f"Viele Grüße\n{o.name}",
        )
        for o in orders
        if o.planted in stuck
    ]
    return Day(start, orders, mails)


def channel(index: int) -> str:
    """The shop or marketplace of order ``index``."""
    return CHANNEL_PATTERN[index % len(CHANNEL_PATTERN)]


def relay_email(index: int) -> str:
    """The masked address eBay shows for a buyer (mail to it reaches the buyer)."""
    return f"{zlib.crc32(f'buyer-{index}'.encode()):08x}{index:06x}@members.ebay.com"


def _make_order(rng: random.Random, index: int, start: datetime, kind: str | None) -> Order:
    platform = channel(index)
    payment = PAYMENTS[index % len(PAYMENTS)]
    if platform in MARKETPLACES:
        payment = MARKETPLACE_PAYMENT
    elif kind == "unpaid_prepayment":
        payment = "prepayment"
    country = "AT" if index % 10 == 3 else "DE"
    zip_code, city = rng.choice(CITIES[country])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"kunde{index:05d}@kunden.example.org"
    if kind == "bounced_invoice":
        email = f"nobody{index:05d}@kunden.example.org"
    if platform in MARKETPLACES:
        email = relay_email(index)
    count = 1 + index % 3
    skus = rng.sample(CATALOGUE, count)
    lines = [
        Line(sku, f"Artikel {sku}", 1 + (index + k) % 2, PRICES[(index + k) % len(PRICES)])
        for k, sku in enumerate(skus)
    ]
    street, street2 = f"{rng.choice(('Haupt', 'Linden', 'Garten'))}straße {1 + index % 90}", ""
    external_id, number = str(900000 + index), str(900000 + index)
    if platform == "shopify":
        number = f"#{900000 + index}"
    elif platform == "ebay":
        # eBay's order id; the seller's sales record number is the order's number
        external_id = f"26-{index:05d}-{(index * 7919) % 100000:05d}"
    order = Order(
        index=index,
        platform=platform,
        external_id=external_id,
        number=number,
        created_at=start + timedelta(seconds=20 * index),
        email=email,
        first_name=first,
        last_name=last,
        street=street,
        street2=street2,
        zip=zip_code,
        city=city,
        country=country,
        payment=payment,
        lines=tuple(lines),
        planted=kind,
    )
    if kind == "customer_note":
        order.note = "Bitte beim Nachbarn abgeben, falls niemand da ist."
    elif kind == "packstation_bulky":
        order.country, order.zip, order.city = "DE", "10115", "Berlin"
        order.street, order.street2 = "Packstation 123", "Postnummer 12345678"
        order.lines = (Line(BULKY_SKU, "Kleiderschrank", 1, Decimal("299.00")),)
    elif kind == "unknown_product":
        order.lines = (*order.lines, Line(f"SD-ALT-{index}", "Altes Modell", 1, PRICES[0]))
    elif kind == "stock_shortfall":
        order.lines = (Line(SCARCE_SKU, "Seltener Artikel", SCARCE_STOCK + 2, PRICES[1]),)
    elif kind == "totals_mismatch":
        order.total_offset = Decimal("5.00")
    return order


# --- payloads ---------------------------------------------------------------------


def _sample(platform: str) -> dict:
    return json.loads((DATA / platform / "order.json").read_text(encoding="utf-8"))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def shopify_payload(order: Order, sample: dict | None = None) -> dict:
    """The order as Shopify's ``orders.json`` lists it (prices gross, taxes included)."""
    payload = copy.deepcopy(sample or _sample("shopify"))
    template = payload["line_items"][0]
    items = []
    for k, line in enumerate(order.lines):
        item = copy.deepcopy(template)
        gross = line.unit_price * line.quantity
        tax = (gross - gross / Decimal("1.19")).quantize(Decimal("0.01"))
        item.update(
            id=order.index * 10 + k,
            variant_id=order.index * 10 + k,
            product_id=order.index * 10 + k,
            sku=line.sku,
            name=line.name,
            title=line.name,
            quantity=line.quantity,
            price=str(line.unit_price),
            fulfillable_quantity=line.quantity,
            tax_lines=[{"price": str(tax), "rate": 0.19, "title": "MwSt"}],
            discount_allocations=[],
        )
        items.append(item)
    address = {
        "first_name": order.first_name,
        "last_name": order.last_name,
        "name": order.name,
        "company": None,
        "address1": order.street,
        "address2": order.street2,
        "zip": order.zip,
        "city": order.city,
        "province": None,
        "province_code": None,
        "country": order.country,
        "country_code": order.country,
        "phone": None,
    }
    stamp = _stamp(order.created_at)
    goods = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
    payload.update(
        id=int(order.external_id),
        admin_graphql_api_id=f"gid://shopify/Order/{order.external_id}",
        name=order.number,
        order_number=int(order.external_id),
        email=order.email,
        created_at=stamp,
        updated_at=stamp,
        processed_at=stamp,
        note=order.note,
        financial_status="paid" if order.payment == "paypal" else "pending",
        payment_gateway_names=[PAYMENT_CODES["shopify"][order.payment]],
        total_price=str(order.total),
        subtotal_price=str(goods),
        total_line_items_price=str(goods),
        total_discounts="0.00",
        total_tax=str((order.total - order.total / Decimal("1.19")).quantize(Decimal("0.01"))),
        total_shipping_price_set={
            "shop_money": {"amount": str(SHIPPING), "currency_code": "EUR"},
            "presentment_money": {"amount": str(SHIPPING), "currency_code": "EUR"},
        },
        discount_codes=[],
        line_items=items,
        billing_address=dict(
            address, address1=order.street if order.street2 == "" else "Hauptstraße 1", address2=""
        ),
        shipping_address=address,
        customer={
            "id": 100000 + order.index,
            "email": order.email,
            "first_name": order.first_name,
            "last_name": order.last_name,
            "phone": None,
        },
        shipping_lines=[
            {"id": order.index, "code": "Standard", "title": "Standard", "price": str(SHIPPING)}
        ],
    )
    return payload


def woocommerce_payload(order: Order, sample: dict | None = None) -> dict:
    """The order as WooCommerce REST v3 lists it (net amounts with separate taxes)."""
    payload = copy.deepcopy(sample or _sample("woocommerce"))
    template = payload["line_items"][0]
    items = []
    cart_tax = Decimal(0)
    for k, line in enumerate(order.lines):
        item = copy.deepcopy(template)
        gross = line.unit_price * line.quantity
        net = (gross / Decimal("1.19")).quantize(Decimal("0.01"))
        tax = gross - net
        cart_tax += tax
        item.update(
            id=order.index * 10 + k,
            name=line.name,
            product_id=order.index * 10 + k,
            variation_id=0,
            quantity=line.quantity,
            subtotal=str(net),
            subtotal_tax=str(tax),
            total=str(net),
            total_tax=str(tax),
            taxes=[{"id": 75, "total": str(tax), "subtotal": str(tax)}],
            sku=line.sku,
            price=float(net / line.quantity),
        )
        items.append(item)
    ship_net = (SHIPPING / Decimal("1.19")).quantize(Decimal("0.01"))
    ship_tax = SHIPPING - ship_net
    address = {
        "first_name": order.first_name,
        "last_name": order.last_name,
        "company": "",
        "address_1": order.street,
        "address_2": order.street2,
        "city": order.city,
        "state": "",
        "postcode": order.zip,
        "country": order.country,
        "phone": "",
    }
    stamp = order.created_at.strftime("%Y-%m-%dT%H:%M:%S")
    code = PAYMENT_CODES["woocommerce"][order.payment]
    payload.update(
        id=int(order.external_id),
        number=order.number,
        order_key=f"wc_order_{order.external_id}",
        status="processing" if order.payment == "paypal" else "on-hold",
        currency="EUR",
        date_created=stamp,
        date_created_gmt=stamp,
        date_modified=stamp,
        date_modified_gmt=stamp,
        discount_total="0.00",
        discount_tax="0.00",
        shipping_total=str(ship_net),
        shipping_tax=str(ship_tax),
        cart_tax=str(cart_tax),
        total=str(order.total),
        total_tax=str(cart_tax + ship_tax),
        prices_include_tax=False,
        customer_id=100000 + order.index,
        customer_note=order.note,
        billing=dict(address, email=order.email, address_1="Hauptstraße 1", address_2="")
        if order.street2
        else dict(address, email=order.email),
        shipping=address,
        payment_method=code,
        payment_method_title=code,
        transaction_id="",
        line_items=items,
        tax_lines=[
            dict(payload["tax_lines"][0], tax_total=str(cart_tax), shipping_tax_total=str(ship_tax))
        ],
        shipping_lines=[
            {
                "id": order.index,
                "method_title": "Standard",
                "method_id": "flat_rate",
                "total": str(ship_net),
                "total_tax": str(ship_tax),
                "taxes": [{"id": 75, "total": str(ship_tax), "subtotal": ""}],
            }
        ],
        fee_lines=[],
        coupon_lines=[],
        refunds=[],
    )
    return payload


def ebay_payload(order: Order, sample: dict | None = None) -> dict:
    """The order as eBay's ``getOrders`` lists it (prices gross, the buyer's mail masked)."""
    payload = copy.deepcopy(sample or _sample("ebay"))
    template = payload["lineItems"][0]
    items = []
    for k, line in enumerate(order.lines):
        item = copy.deepcopy(template)
        gross = line.unit_price * line.quantity
        item.update(
            lineItemId=str(order.index * 10 + k),
            legacyItemId=str(110000000000 + order.index * 10 + k),
            sku=line.sku,
            title=line.name,
            lineItemCost={"value": str(gross), "currency": "EUR"},
            quantity=line.quantity,
            total={"value": str(gross), "currency": "EUR"},
            deliveryCost={"shippingCost": {"value": "0.00", "currency": "EUR"}},
            appliedPromotions=[],
            taxes=[],
        )
        items.append(item)
    if items:
        items[0]["deliveryCost"] = {"shippingCost": {"value": str(SHIPPING), "currency": "EUR"}}
    contact = {
        "addressLine1": order.street,
        "city": order.city,
        "postalCode": order.zip,
        "countryCode": order.country,
    }
    if order.street2:
        contact["addressLine2"] = order.street2
    # the buyer's registration address: a Packstation is only where the parcel goes
    home = dict(contact, addressLine1="Hauptstraße 1") if order.street2 else dict(contact)
    home.pop("addressLine2", None)
    stamp = order.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    goods = sum((line.unit_price * line.quantity for line in order.lines), Decimal(0))
    total = {"value": str(order.total), "currency": "EUR"}
    payload.update(
        orderId=order.external_id,
        legacyOrderId=f"{110000000000 + order.index}-{order.index:013d}",
        creationDate=stamp,
        lastModifiedDate=stamp,
        orderFulfillmentStatus="NOT_STARTED",
        orderPaymentStatus="PAID",
        buyer={
            "username": f"{order.first_name.lower()}_{order.index}",
            "taxAddress": {
                "postalCode": home["postalCode"],
                "city": home["city"],
                "countryCode": home["countryCode"],
            },
            "buyerRegistrationAddress": {
                "fullName": order.name,
                "contactAddress": home,
                "email": order.email,
            },
        },
        buyerCheckoutNotes=order.note,
        pricingSummary={
            "priceSubtotal": {"value": str(goods), "currency": "EUR"},
            "deliveryCost": {"value": str(SHIPPING), "currency": "EUR"},
            "total": total,
        },
        paymentSummary={
            "totalDueSeller": total,
            "payments": [
                {
                    "paymentMethod": PAYMENT_CODES["ebay"][MARKETPLACE_PAYMENT],
                    "paymentReferenceId": f"SD{order.index:015d}",
                    "paymentDate": stamp,
                    "amount": total,
                    "paymentStatus": "PAID",
                }
            ],
        },
        fulfillmentStartInstructions=[
            {
                "fulfillmentInstructionsType": "SHIP_TO",
                "shippingStep": {
                    "shipTo": {
                        "fullName": order.name,
                        "contactAddress": contact,
                        "email": order.email,
                    },
                    "shippingCarrierCode": "DHL",
                    "shippingServiceCode": "DE_DHLPaket",
                },
            }
        ],
        salesRecordReference=order.number,
        totalFeeBasisAmount=total,
        lineItems=items,
    )
    return payload


PAYLOAD_BUILDERS = {
    "shopify": shopify_payload,
    "woocommerce": woocommerce_payload,
    "ebay": ebay_payload,
}
