"""WooCommerce REST API v3: orders, order notes/status, product stock.

Orders: ``GET /wp-json/wc/v3/orders?page=&per_page=&modified_after=&dates_are_gmt=true``,
the page count in ``X-WP-TotalPages``; HTTP basic auth with consumer key and secret.
WooCommerce amounts are net with separate tax fields; they are converted to gross here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from ....mail_crm_shop.services.errors import PermanentError
from ...services.orders import (
    ZERO,
    OrderPage,
    ShopAddress,
    ShopCustomer,
    ShopFee,
    ShopOrder,
    ShopOrderLine,
    format_datetime,
    join_name,
    make_address,
    make_customer,
    parse_datetime,
    to_decimal,
)
from .base import ImportCursor, ShipmentLine, map_each, utcnow
from .http import HttpPolicy, ShopHttpClient

WOO_STATUS = {
    "pending": "open",
    "on-hold": "open",
    "failed": "open",
    "checkout-draft": "pending",
    "processing": "paid",
    "completed": "shipped",
    "cancelled": "cancelled",
    "refunded": "refunded",
}


@dataclass(frozen=True, slots=True)
class WooCommerceSettings:
    """``base_url`` is the site root, e.g. ``https://shop.example.de``."""

    base_url: str
    consumer_key: str
    consumer_secret: str
    page_size: int = 100
    import_since: datetime | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class WooCommerceAdapter:
    """Fetch orders and write shipments/stock back to one WooCommerce shop."""

    def __init__(
        self,
        settings: WooCommerceSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self._now = now
        self.http = ShopHttpClient(
            settings.policy,
            auth=(settings.consumer_key, settings.consumer_secret),
            sleep=sleep,
            session=session,
        )

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/wp-json/wc/v3/{path}"

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders modified since the cursor, by ascending id.

        Sorted by id, not by modification date: a page-numbered list sorted by the date
        shifts while orders change during the run, and an order could be skipped.
        """
        state = ImportCursor.decode(cursor, self.settings.import_since).started(self._now())
        page = int(state.page or 1)
        while True:
            params: dict[str, Any] = {
                "page": page,
                "per_page": self.settings.page_size,
                "orderby": "id",
                "order": "asc",
                "dates_are_gmt": "true",
            }
            if state.since:
                params["modified_after"] = format_datetime(state.since)
            result = self.http.get(self._url("orders"), params=params)
            if not isinstance(result.data, list):
                raise PermanentError(f"{result.url}: expected a list of orders")
            orders, unmapped = map_each(map_woocommerce_order, result.data)
            total_pages = int(result.headers.get("X-WP-TotalPages") or 0)
            if page >= total_pages or not result.data:
                yield OrderPage(orders, state.finished(orders), False, unmapped)
                return
            page += 1
            state = state.advance(orders, str(page))
            yield OrderPage(orders, state.encode(), True, unmapped)

    def confirm_shipment(
        self,
        external_id: str,
        carrier: str,
        tracking_ref: str,
        lines: Sequence[ShipmentLine] = (),
    ) -> None:
        """Add a customer note with the tracking reference and complete the order.

        WooCommerce core has no partial shipments: ``lines`` is ignored. Idempotent: an
        existing note with ``tracking_ref`` is not added twice; a completed order is not
        updated again.
        """
        notes = self.http.get(self._url(f"orders/{external_id}/notes")).data or []
        if not any(tracking_ref in (n.get("note") or "") for n in notes):
            body = {"note": f"Shipped with {carrier}, tracking number {tracking_ref}"}
            body["customer_note"] = True
            self.http.request("POST", self._url(f"orders/{external_id}/notes"), json_body=body)
        order = self.http.get(self._url(f"orders/{external_id}")).data or {}
        if order.get("status") != "completed":
            self.http.request(
                "PUT", self._url(f"orders/{external_id}"), json_body={"status": "completed"}
            )

    def push_stock(self, sku: str, quantity: int) -> None:
        """Set ``stock_quantity`` of the product or variation with ``sku``."""
        found = self.http.get(self._url("products"), params={"sku": sku}).data or []
        matches = [p for p in found if p.get("sku") == sku]
        if len(matches) != 1:
            raise PermanentError(f"WooCommerce: {len(matches)} products with SKU {sku!r}")
        product = matches[0]
        if product.get("parent_id"):
            path = f"products/{product['parent_id']}/variations/{product['id']}"
        else:
            path = f"products/{product['id']}"
        body = {"manage_stock": True, "stock_quantity": int(quantity)}
        self.http.request("PUT", self._url(path), json_body=body)


def _woo_address(data: Mapping[str, Any] | None) -> ShopAddress:
    data = data or {}
    return make_address(
        name=join_name(data.get("first_name"), data.get("last_name")),
        company=data.get("company") or "",
        street=data.get("address_1") or "",
        street2=data.get("address_2") or "",
        zip_code=data.get("postcode") or "",
        city=data.get("city") or "",
        country_code=data.get("country") or "",
        state=data.get("state") or "",
    )


def _gross(data: Mapping[str, Any], net_key: str, tax_key: str) -> Decimal:
    return to_decimal(data.get(net_key), net_key) + to_decimal(data.get(tax_key), tax_key)


def _woo_line(item: Mapping[str, Any], rates: Mapping[Any, Decimal]) -> ShopOrderLine:
    quantity = to_decimal(item.get("quantity"), "quantity")
    before = _gross(item, "subtotal", "subtotal_tax")
    after = _gross(item, "total", "total_tax")
    rate = None
    for tax in item.get("taxes") or []:
        if tax.get("id") in rates and to_decimal(tax.get("subtotal") or tax.get("total")):
            rate = (rate or ZERO) + rates[tax["id"]]
    return ShopOrderLine(
        external_id=str(item.get("id", "")),
        sku=item.get("sku") or "",
        name=item.get("name") or "",
        quantity=quantity,
        unit_price=before / quantity if quantity else before,
        price_includes_tax=True,
        tax_rate=rate,
        discount=before - after,
    )


def _woo_fee(fee: Mapping[str, Any]) -> ShopFee:
    amount = _gross(fee, "total", "total_tax")
    name = fee.get("name") or ""
    lowered = name.lower()
    if "nachnahme" in lowered or "cash on delivery" in lowered or "cod" in lowered.split():
        kind = "cod"
    elif amount < 0:
        kind = "voucher"
    else:
        kind = "other"
    return ShopFee(kind=kind, amount=amount, label=name)


def map_woocommerce_order(order: Mapping[str, Any]) -> ShopOrder:
    """Map one order of ``/wc/v3/orders`` into a :class:`ShopOrder` (amounts gross)."""
    billing = order.get("billing") or {}
    shipping = order.get("shipping") or {}
    status = order.get("status") or ""
    if status not in WOO_STATUS:
        raise PermanentError(f"WooCommerce order {order.get('id')}: unknown status {status!r}")
    rates = _woo_tax_rates(order)
    payment_method = order.get("payment_method") or ""
    has_shipping_address = any(shipping.get(k) for k in ("address_1", "city", "postcode"))
    shipping_line = (order.get("shipping_lines") or [{}])[0] or {}
    return ShopOrder(
        external_id=str(order.get("id") or ""),
        number=str(order.get("number") or order.get("id") or ""),
        created_at=parse_datetime(order.get("date_created_gmt"), "date_created_gmt"),
        updated_at=parse_datetime(order.get("date_modified_gmt"), "date_modified_gmt"),
        status=WOO_STATUS[status],
        payment_method=payment_method,
        is_paid=bool(order.get("date_paid_gmt")) or status in ("processing", "completed"),
        currency=order.get("currency") or "",
        total=to_decimal(order.get("total"), "total"),
        shipping_total=_gross(order, "shipping_total", "shipping_tax"),
        discount_total=_gross(order, "discount_total", "discount_tax"),
        customer=_woo_customer(billing, shipping),
        billing=_woo_address(billing),
        shipping=_woo_address(shipping if has_shipping_address else billing),
        lines=tuple(_woo_line(i, rates) for i in order.get("line_items") or []),
        fees=tuple(_woo_fee(f) for f in order.get("fee_lines") or []),
        customer_note=(order.get("customer_note") or "").strip(),
        shipping_method=str(shipping_line.get("method_id") or "").strip(),
        shipping_method_title=str(shipping_line.get("method_title") or "").strip(),
        raw=order,
    )


def _woo_tax_rates(order: Mapping[str, Any]) -> dict[Any, Decimal]:
    """Tax rate id -> percent, from the order's ``tax_lines`` (the lines name only ids)."""
    return {
        t.get("rate_id"): to_decimal(t.get("rate_percent"), "rate_percent")
        for t in order.get("tax_lines") or []
    }


def _woo_customer(billing: Mapping[str, Any], shipping: Mapping[str, Any]) -> ShopCustomer:
    """The billing contact; the phone falls back to the shipping address's."""
    return make_customer(
        email=billing.get("email") or "",
        name=join_name(billing.get("first_name"), billing.get("last_name")),
        phone=billing.get("phone") or shipping.get("phone") or "",
        company=billing.get("company") or "",
    )
