"""Shopware 6 Admin API.

Auth: ``POST /api/oauth/token`` with ``client_credentials`` (an integration's access key
id and secret) → a bearer token valid 10 minutes. Orders: ``POST /api/search/order`` with
a criteria body (page, limit, filter on ``updatedAt``/``createdAt``, associations); with
``Accept: application/json`` the answer is ``{"total": n, "data": [..]}``.
Shipment: tracking codes on the order delivery, then the delivery state transition
``ship`` (``POST /api/_action/order_delivery/{id}/state/ship``).
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
from .tokens import AccessToken

ORDER_ASSOCIATIONS = {
    "lineItems": {},
    "currency": {},
    "orderCustomer": {},
    "stateMachineState": {},
    "billingAddress": {"associations": {"country": {}}},
    "deliveries": {
        "associations": {
            "shippingOrderAddress": {"associations": {"country": {}}},
            "shippingMethod": {},
            "stateMachineState": {},
        }
    },
    "transactions": {"associations": {"paymentMethod": {}, "stateMachineState": {}}},
}


@dataclass(frozen=True, slots=True)
class ShopwareSettings:
    """``base_url`` the shop root; ``client_id``/``client_secret`` of an integration."""

    base_url: str
    client_id: str
    client_secret: str
    page_size: int = 100
    import_since: datetime | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class ShopwareAdapter:
    """Fetch orders from and confirm shipments to one Shopware 6 shop."""

    def __init__(
        self,
        settings: ShopwareSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self._now = now
        self.http = ShopHttpClient(settings.policy, sleep=sleep, session=session)
        self.token = AccessToken(
            self.http,
            self._url("oauth/token"),
            {
                "grant_type": "client_credentials",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            },
            as_json=True,
        )

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/api/{path}"

    def _call(self, method: str, path: str, body: Any = None, idempotent=None) -> Any:
        headers = {"Authorization": f"Bearer {self.token.get()}"}
        return self.http.request(
            method, self._url(path), json_body=body, headers=headers, idempotent=idempotent
        ).data

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders created or updated since the cursor."""
        state = ImportCursor.decode(cursor, self.settings.import_since).started(self._now())
        page = int(state.page or 1)
        while True:
            criteria: dict[str, Any] = {
                "page": page,
                "limit": self.settings.page_size,
                "associations": ORDER_ASSOCIATIONS,
                "sort": [{"field": "createdAt", "order": "ASC"}],
                "total-count-mode": 1,
            }
            if state.since:
                since = format_datetime(state.since)
                criteria["filter"] = [
                    {
                        "type": "multi",
                        "operator": "or",
                        "queries": [
                            {"type": "range", "field": "updatedAt", "parameters": {"gte": since}},
                            {"type": "range", "field": "createdAt", "parameters": {"gte": since}},
                        ],
                    }
                ]
            data = self._call("POST", "search/order", criteria, idempotent=True) or {}
            if not isinstance(data.get("data"), list):
                raise PermanentError("Shopware: search/order answered without a data list")
            orders, unmapped = map_each(map_shopware_order, data["data"])
            total = int(data.get("total") or 0)
            if page * self.settings.page_size >= total or not data["data"]:
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
    ) -> bool:
        """Add ``tracking_ref`` to the order's delivery and move it to *shipped*.

        Shopware deliveries are whole-order: ``lines`` is ignored. Idempotent: a known
        tracking code is not added again, a shipped delivery not transitioned again.
        """
        criteria = {
            "filter": [{"type": "equals", "field": "orderId", "value": external_id}],
            "associations": {"stateMachineState": {}},
        }
        found = self._call("POST", "search/order-delivery", criteria, idempotent=True) or {}
        deliveries = found.get("data") or []
        if not deliveries:
            raise PermanentError(f"Shopware: order {external_id} has no delivery")
        delivery = deliveries[0]
        codes = list(delivery.get("trackingCodes") or [])
        if tracking_ref not in codes:
            self._call(
                "PATCH",
                f"order-delivery/{delivery['id']}",
                {"trackingCodes": [*codes, tracking_ref]},
                idempotent=True,
            )
        state = (delivery.get("stateMachineState") or {}).get("technicalName")
        if state in ("shipped", "shipped_partially"):
            return False
        self._call("POST", f"_action/order_delivery/{delivery['id']}/state/ship", {})
        return True

    def push_stock(self, sku: str, quantity: int) -> None:
        """Set ``stock`` of the product whose product number is ``sku``."""
        criteria = {
            "filter": [{"type": "equals", "field": "productNumber", "value": sku}],
            "limit": 2,
        }
        found = (self._call("POST", "search/product", criteria, idempotent=True) or {}).get(
            "data"
        ) or []
        if len(found) != 1:
            raise PermanentError(f"Shopware: {len(found)} products with number {sku!r}")
        self._call("PATCH", f"product/{found[0]['id']}", {"stock": int(quantity)}, idempotent=True)


def _shopware_address(data: Mapping[str, Any] | None) -> ShopAddress:
    data = data or {}
    return make_address(
        name=join_name(data.get("firstName"), data.get("lastName")),
        company=data.get("company") or "",
        street=data.get("street") or "",
        street2=join_name(data.get("additionalAddressLine1"), data.get("additionalAddressLine2")),
        zip_code=data.get("zipcode") or "",
        city=data.get("city") or "",
        country_code=(data.get("country") or {}).get("iso") or "",
    )


def _state(entity: Mapping[str, Any] | None) -> str:
    return ((entity or {}).get("stateMachineState") or {}).get("technicalName") or ""


def _tax_rate(price: Mapping[str, Any] | None):
    taxes = (price or {}).get("calculatedTaxes") or []
    return sum((to_decimal(t.get("taxRate"), "taxRate") for t in taxes), ZERO) if taxes else None


def map_shopware_order(order: Mapping[str, Any]) -> ShopOrder:
    """Map one order of ``search/order`` (with associations) into a :class:`ShopOrder`."""
    gross = ((order.get("price") or {}).get("taxStatus") or "gross") == "gross"
    lines, discounts = _shopware_lines(order.get("lineItems") or [], gross)
    deliveries = order.get("deliveries") or [{}]
    transaction = (order.get("transactions") or [{}])[-1]
    customer = order.get("orderCustomer") or {}
    billing = _shopware_address(order.get("billingAddress"))
    status, paid = _shopware_status(order, transaction, deliveries)
    shipping_costs = to_decimal(order.get("shippingTotal"), "shippingTotal")
    method = deliveries[0].get("shippingMethod") or {}
    return ShopOrder(
        external_id=str(order.get("id") or ""),
        number=str(order.get("orderNumber") or ""),
        created_at=parse_datetime(
            order.get("createdAt") or order.get("orderDateTime"), "createdAt"
        ),
        updated_at=parse_datetime(order.get("updatedAt") or order.get("createdAt"), "updatedAt"),
        status=status,
        payment_method=_payment_method(transaction),
        is_paid=paid or _state(transaction) == "refunded",
        currency=(order.get("currency") or {}).get("isoCode") or "",
        total=to_decimal(order.get("amountTotal"), "amountTotal"),
        shipping_total=shipping_costs,
        discount_total=discounts,
        customer=_shopware_customer(order, customer, billing),
        billing=billing,
        shipping=_shopware_shipping(deliveries[0], billing),
        lines=tuple(lines),
        fees=(),
        customer_note=(order.get("customerComment") or "").strip(),
        shipping_method=str(
            method.get("technicalName") or deliveries[0].get("shippingMethodId") or ""
        ).strip(),
        shipping_method_title=str(method.get("name") or "").strip(),
        raw=order,
    )


def _shopware_lines(items, gross: bool) -> tuple[list[ShopOrderLine], Decimal]:
    """The product lines, and the sum of promotions and negative lines (the discount)."""
    lines, discounts = [], ZERO
    for item in items:
        if item.get("type") == "promotion" or to_decimal(item.get("totalPrice")) < 0:
            discounts += abs(to_decimal(item.get("totalPrice"), "totalPrice"))
            continue
        lines.append(
            ShopOrderLine(
                external_id=str(item.get("id", "")),
                sku=(item.get("payload") or {}).get("productNumber") or "",
                ean=(item.get("payload") or {}).get("ean") or "",
                name=item.get("label") or "",
                quantity=to_decimal(item.get("quantity"), "quantity"),
                unit_price=to_decimal(item.get("unitPrice"), "unitPrice"),
                price_includes_tax=gross,
                tax_rate=_tax_rate(item.get("price")),
            )
        )
    return lines, discounts


def _shopware_status(
    order: Mapping[str, Any], transaction: Mapping[str, Any], deliveries: Sequence[Any]
) -> tuple[str, bool]:
    """Our status of the order, and whether its (last) payment is paid."""
    state = _state(order)
    paid = _state(transaction) in ("paid", "paid_partially", "refunded_partially")
    if state == "cancelled":
        return "cancelled", paid
    if _state(transaction) == "refunded":
        return "refunded", paid
    if _state(deliveries[0]) == "shipped" or state == "completed":
        return "shipped", paid
    return ("paid" if paid else "open"), paid


def _payment_method(transaction: Mapping[str, Any]) -> str:
    return (
        (transaction.get("paymentMethod") or {}).get("technicalName")
        or (transaction.get("paymentMethod") or {}).get("name")
        or ""
    )


def _shopware_customer(
    order: Mapping[str, Any], customer: Mapping[str, Any], billing: ShopAddress
) -> ShopCustomer:
    return make_customer(
        email=customer.get("email") or "",
        name=join_name(customer.get("firstName"), customer.get("lastName")),
        phone=(order.get("billingAddress") or {}).get("phoneNumber") or "",
        company=customer.get("company") or billing.company,
    )


def _shopware_shipping(delivery: Mapping[str, Any], billing: ShopAddress) -> ShopAddress:
    """The delivery's own address; the billing address when it has none."""
    if delivery.get("shippingOrderAddress"):
        return _shopware_address(delivery.get("shippingOrderAddress"))
    return billing
