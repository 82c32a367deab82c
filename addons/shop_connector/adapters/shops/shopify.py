"""Shopify Admin REST API (2024-07): orders, fulfillments, inventory levels.

Orders: ``GET /admin/api/2024-07/orders.json?status=any&updated_at_min=..&limit=250``,
next pages by the ``Link: <..page_info=..>; rel="next"`` header (a page_info request may
only carry ``limit``). Auth: ``X-Shopify-Access-Token``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.utils import parse_header_links

from ....mail_crm_shop.services.errors import PermanentError
from ...services.orders import (
    ZERO,
    OrderPage,
    ShopAddress,
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


@dataclass(frozen=True, slots=True)
class ShopifySettings:
    """``shop_url`` like ``https://example.myshopify.com``."""

    shop_url: str
    access_token: str
    api_version: str = "2024-07"
    location_id: str = ""
    page_size: int = 250
    import_since: datetime | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class ShopifyAdapter:
    """Fetch orders and write shipments/stock back to one Shopify store."""

    def __init__(
        self,
        settings: ShopifySettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self._now = now
        self.http = ShopHttpClient(
            settings.policy,
            headers={"X-Shopify-Access-Token": settings.access_token},
            sleep=sleep,
            session=session,
        )

    def _url(self, path: str) -> str:
        base = self.settings.shop_url.rstrip("/")
        return f"{base}/admin/api/{self.settings.api_version}/{path}"

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders changed since the cursor; see :mod:`.base`."""
        state = ImportCursor.decode(cursor, self.settings.import_since).started(self._now())
        if state.page:
            params: dict[str, Any] = {"limit": self.settings.page_size, "page_info": state.page}
        else:
            params = {"status": "any", "limit": self.settings.page_size, "order": "updated_at asc"}
            if state.since:
                params["updated_at_min"] = format_datetime(state.since)
        while True:
            result = self.http.get(self._url("orders.json"), params=params)
            orders, unmapped = map_each(map_shopify_order, _list(result.data, "orders"))
            page_info = next_page_info(result.headers.get("Link", ""))
            if page_info is None:
                yield OrderPage(orders, state.finished(orders), False, unmapped)
                return
            state = state.advance(orders, page_info)
            yield OrderPage(orders, state.encode(), True, unmapped)
            params = {"limit": self.settings.page_size, "page_info": page_info}

    def confirm_shipment(
        self,
        external_id: str,
        carrier: str,
        tracking_ref: str,
        lines: Sequence[ShipmentLine] = (),
        notify_customer: bool = True,
    ) -> str | None:
        """Create a fulfillment with tracking for the open fulfillment orders.

        ``lines`` empty ships everything still fulfillable. Idempotent: a fulfillment
        with ``tracking_ref`` already there returns its id without a new one; nothing
        left to fulfil returns ``None``. Returns the fulfillment id.
        """
        existing = self._fulfillment_with(external_id, tracking_ref)
        if existing is not None:
            return existing
        result = self.http.get(self._url(f"orders/{external_id}/fulfillment_orders.json"))
        groups = _fulfillment_groups(result.data, lines)
        if not groups:
            return None
        body = {
            "fulfillment": {
                "line_items_by_fulfillment_order": groups,
                "tracking_info": {"company": carrier, "number": tracking_ref},
                "notify_customer": notify_customer,
            }
        }
        created = self.http.request("POST", self._url("fulfillments.json"), json_body=body)
        return str((created.data or {}).get("fulfillment", {}).get("id", "")) or None

    def _fulfillment_with(self, external_id: str, tracking_ref: str) -> str | None:
        """The id of the order's fulfillment with ``tracking_ref`` (not cancelled), if any."""
        done = self.http.get(self._url(f"orders/{external_id}/fulfillments.json"))
        for fulfillment in _list(done.data, "fulfillments"):
            numbers = fulfillment.get("tracking_numbers") or [fulfillment.get("tracking_number")]
            if tracking_ref in numbers and fulfillment.get("status") != "cancelled":
                return str(fulfillment["id"])
        return None

    def push_stock(self, sku: str, quantity: int) -> None:
        """Set the available quantity of the variant with ``sku`` at ``location_id``."""
        if not self.settings.location_id:
            raise PermanentError("Shopify: a location id is needed to push stock")
        query = (
            "query($q: String!) { productVariants(first: 2, query: $q) "
            "{ edges { node { sku inventoryItem { legacyResourceId } } } } }"
        )
        found = self.http.request(
            "POST",
            self._url("graphql.json"),
            json_body={"query": query, "variables": {"q": f"sku:{sku}"}},
            idempotent=True,
        )
        edges = (((found.data or {}).get("data") or {}).get("productVariants") or {}).get(
            "edges", []
        )
        items = [e["node"] for e in edges if e.get("node", {}).get("sku") == sku]
        if len(items) != 1:
            raise PermanentError(f"Shopify: {len(items)} variants with SKU {sku!r}, expected 1")
        body = {
            "location_id": int(self.settings.location_id),
            "inventory_item_id": int(items[0]["inventoryItem"]["legacyResourceId"]),
            "available": int(quantity),
        }
        self.http.request(
            "POST", self._url("inventory_levels/set.json"), json_body=body, idempotent=True
        )


def next_page_info(link_header: str) -> str | None:
    """The ``page_info`` of the ``rel="next"`` link, if any."""
    for link in parse_header_links(link_header) if link_header else ():
        if link.get("rel") == "next":
            values = parse_qs(urlsplit(link.get("url", "")).query).get("page_info")
            if values:
                return values[0]
    return None


def _list(data: Any, key: str) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise PermanentError(f"response without a {key!r} list")
    return data[key]


def _fulfillment_groups(data: Any, lines: Sequence[ShipmentLine]) -> list[dict]:
    """What to ship of each open fulfillment order: all that is left, or only ``lines``."""
    wanted = {line.external_line_id: line.quantity for line in lines}
    groups = []
    for fo in _list(data, "fulfillment_orders"):
        if fo.get("status") not in ("open", "in_progress"):
            continue
        items = []
        for item in fo.get("line_items", []):
            left = int(item.get("fulfillable_quantity") or 0)
            line_id = str(item.get("line_item_id"))
            qty = min(left, wanted.get(line_id, 0)) if wanted else left
            if wanted and qty > 0:
                wanted[line_id] -= qty  # a line split over locations is shipped once
            if qty > 0:
                items.append({"id": item["id"], "quantity": qty})
        if items:
            groups.append({"fulfillment_order_id": fo["id"], "fulfillment_order_line_items": items})
    return groups


def _shopify_address(data: Mapping[str, Any] | None) -> ShopAddress:
    data = data or {}
    return make_address(
        name=data.get("name") or join_name(data.get("first_name"), data.get("last_name")),
        company=data.get("company") or "",
        street=data.get("address1") or "",
        street2=data.get("address2") or "",
        zip_code=data.get("zip") or "",
        city=data.get("city") or "",
        country_code=data.get("country_code") or "",
        state=data.get("province_code") or data.get("province") or "",
    )


def _shopify_status(order: Mapping[str, Any]) -> str:
    financial = order.get("financial_status") or ""
    if order.get("cancelled_at"):
        return "cancelled"
    if financial in ("refunded", "voided"):
        return "refunded"
    if order.get("fulfillment_status") == "fulfilled":
        return "shipped"
    if financial in ("paid", "partially_refunded"):
        return "paid"
    return "open"


def _shopify_line(item: Mapping[str, Any], taxes_included: bool) -> ShopOrderLine:
    rates = [to_decimal(t.get("rate"), "tax rate") for t in item.get("tax_lines") or []]
    discount = sum(
        (to_decimal(a.get("amount"), "discount") for a in item.get("discount_allocations") or []),
        ZERO,
    )
    return ShopOrderLine(
        external_id=str(item.get("id", "")),
        sku=item.get("sku") or "",
        name=item.get("name") or item.get("title") or "",
        quantity=to_decimal(item.get("quantity"), "quantity"),
        unit_price=to_decimal(item.get("price"), "price"),
        price_includes_tax=taxes_included,
        tax_rate=sum(rates, ZERO) * 100 if rates else None,
        discount=discount,
    )


def map_shopify_order(order: Mapping[str, Any]) -> ShopOrder:
    """Map one order of ``orders.json`` into a :class:`ShopOrder`."""
    customer = order.get("customer") or {}
    billing = order.get("billing_address") or {}
    shipping_set = (order.get("total_shipping_price_set") or {}).get("shop_money") or {}
    financial = order.get("financial_status") or ""
    gateways = order.get("payment_gateway_names") or []
    taxes_included = bool(order.get("taxes_included"))
    shipping_line = (order.get("shipping_lines") or [{}])[0] or {}
    return ShopOrder(
        external_id=str(order.get("id") or ""),
        number=str(order.get("name") or order.get("order_number") or ""),
        created_at=parse_datetime(order.get("created_at"), "created_at"),
        updated_at=parse_datetime(order.get("updated_at"), "updated_at"),
        status=_shopify_status(order),
        payment_method=gateways[0] if gateways else "",
        is_paid=financial in ("paid", "partially_refunded", "refunded"),
        currency=order.get("currency") or "",
        total=to_decimal(order.get("total_price"), "total_price"),
        shipping_total=to_decimal(shipping_set.get("amount"), "shipping"),
        discount_total=to_decimal(order.get("total_discounts"), "total_discounts"),
        customer=make_customer(
            email=order.get("email") or customer.get("email") or "",
            name=join_name(customer.get("first_name"), customer.get("last_name"))
            or billing.get("name", ""),
            phone=order.get("phone") or customer.get("phone") or billing.get("phone") or "",
            company=billing.get("company") or "",
        ),
        billing=_shopify_address(billing),
        shipping=_shopify_address(order.get("shipping_address") or billing),
        lines=tuple(_shopify_line(i, taxes_included) for i in order.get("line_items") or []),
        customer_note=(order.get("note") or "").strip(),
        shipping_method=str(shipping_line.get("code") or "").strip(),
        shipping_method_title=str(shipping_line.get("title") or "").strip(),
        raw=order,
    )
