"""eBay Sell Fulfillment API v1.

Orders: ``GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[2024-07-01T00:00:00.000Z..]
&limit=&offset=``; a ``next`` href while more pages follow. Auth: an OAuth user access
token (refresh-token grant at ``/identity/v1/oauth2/token``) as bearer. Amounts are
``{"value": "12.34", "currency": "EUR"}``; ``lineItemCost`` is the whole quantity.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from ....mail_crm_shop.services.errors import PermanentError
from ...services.orders import (
    ZERO,
    OrderPage,
    ShopAddress,
    ShopOrder,
    ShopOrderLine,
    make_address,
    make_customer,
    money,
    parse_datetime,
    to_decimal,
)
from .base import ImportCursor, ShipmentLine, map_each, utcnow
from .http import HttpPolicy, ShopHttpClient
from .tokens import AccessToken

SELL_SCOPE = (
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment "
    "https://api.ebay.com/oauth/api_scope/sell.inventory"
)


@dataclass(frozen=True, slots=True)
class EbaySettings:
    """``endpoint`` ``https://api.ebay.com``; the refresh token of the seller's consent."""

    endpoint: str
    client_id: str
    client_secret: str
    refresh_token: str
    token_url: str = "https://api.ebay.com/identity/v1/oauth2/token"
    page_size: int = 100
    import_since: datetime | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class EbayAdapter:
    """Fetch orders of one eBay seller account; upload tracking numbers."""

    def __init__(
        self,
        settings: EbaySettings,
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
            settings.token_url,
            {
                "grant_type": "refresh_token",
                "refresh_token": settings.refresh_token,
                "scope": SELL_SCOPE,
            },
            auth=(settings.client_id, settings.client_secret),
        )

    def _url(self, path: str) -> str:
        return f"{self.settings.endpoint.rstrip('/')}/sell/fulfillment/v1/{path}"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.get()}"}

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders modified since the cursor."""
        state = ImportCursor.decode(cursor, self.settings.import_since).started(self._now())
        offset = int(state.page or 0)
        while True:
            params: dict[str, Any] = {"limit": self.settings.page_size, "offset": offset}
            if state.since:
                stamp = state.since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                params["filter"] = f"lastmodifieddate:[{stamp}..]"
            result = self.http.get(self._url("order"), params=params, headers=self._auth())
            data = result.data if isinstance(result.data, dict) else {}
            if not isinstance(data.get("orders", []), list):
                raise PermanentError(f"GET {result.url}: response without an orders list")
            payloads = data.get("orders") or []
            orders, unmapped = map_each(map_ebay_order, payloads, ("orderId",))
            following = data.get("next")
            if not following or not payloads:
                yield OrderPage(orders, state.finished(orders), False, unmapped)
                return
            offset = int(
                parse_qs(urlsplit(following).query).get("offset", [offset + len(payloads)])[0]
            )
            state = state.advance(orders, str(offset))
            yield OrderPage(orders, state.encode(), True, unmapped)

    def confirm_shipment(
        self,
        external_id: str,
        carrier: str,
        tracking_ref: str,
        lines: Sequence[ShipmentLine] = (),
        ship_date: datetime | None = None,
    ) -> bool:
        """Create a shipping fulfillment; ``lines`` empty ships every line item.

        Idempotent: a fulfillment with the same tracking number is not created twice.
        """
        if self._has_fulfillment(external_id, tracking_ref):
            return False
        body = {
            "lineItems": self._fulfillment_items(external_id, lines),
            "shippedDate": _shipped_date(ship_date or self._now()),
            "shippingCarrierCode": carrier,
            "trackingNumber": tracking_ref,
        }
        self.http.request(
            "POST",
            self._url(f"order/{external_id}/shipping_fulfillment"),
            json_body=body,
            headers=self._auth(),
        )
        return True

    def _has_fulfillment(self, external_id: str, tracking_ref: str) -> bool:
        """Whether the order already has a fulfillment with tracking number ``tracking_ref``."""
        done = (
            self.http.get(
                self._url(f"order/{external_id}/shipping_fulfillment"), headers=self._auth()
            ).data
            or {}
        )
        return any(
            f.get("shipmentTrackingNumber") == tracking_ref for f in done.get("fulfillments", [])
        )

    def _fulfillment_items(self, external_id: str, lines: Sequence[ShipmentLine]) -> list[dict]:
        """The ``lineItems`` to ship: ``lines``, or every line item of the order if empty."""
        if lines:
            return [{"lineItemId": li.external_line_id, "quantity": li.quantity} for li in lines]
        order = self.http.get(self._url(f"order/{external_id}"), headers=self._auth()).data
        return [
            {"lineItemId": li["lineItemId"], "quantity": li.get("quantity", 1)}
            for li in (order or {}).get("lineItems", [])
        ]

    def push_stock(self, sku: str, quantity: int) -> None:
        """Set the available quantity of inventory item ``sku`` (Sell Inventory API).

        Only for listings managed through the Inventory API; eBay answers per SKU and a
        refused SKU raises with eBay's message.
        """
        url = f"{self.settings.endpoint.rstrip('/')}/sell/inventory/v1/bulk_update_price_quantity"
        body = {
            "requests": [{"sku": sku, "shipToLocationAvailability": {"quantity": int(quantity)}}]
        }
        result = self.http.request(
            "POST", url, json_body=body, headers=self._auth(), idempotent=True
        )
        for answer in (result.data or {}).get("responses") or []:
            if int(answer.get("statusCode") or 0) >= 300:
                messages = "; ".join(
                    str(e.get("longMessage") or e.get("message")) for e in answer.get("errors", [])
                )
                raise PermanentError(f"eBay refused the stock of {sku!r}: {messages}")


def _shipped_date(ship_date: datetime) -> str:
    """eBay's ``shippedDate``: UTC with milliseconds."""
    return ship_date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ebay_address(ship_to: Mapping[str, Any]) -> ShopAddress:
    contact = ship_to.get("contactAddress") or {}
    return make_address(
        name=ship_to.get("fullName") or "",
        company=ship_to.get("companyName") or "",
        street=contact.get("addressLine1") or "",
        street2=contact.get("addressLine2") or "",
        zip_code=contact.get("postalCode") or "",
        city=contact.get("city") or "",
        country_code=contact.get("countryCode") or "",
        state=contact.get("stateOrProvince") or "",
    )


def _ebay_status(order: Mapping[str, Any]) -> str:
    if (order.get("cancelStatus") or {}).get("cancelState") == "CANCELED":
        return "cancelled"
    payment = order.get("orderPaymentStatus") or ""
    if payment == "FULLY_REFUNDED":
        return "refunded"
    if order.get("orderFulfillmentStatus") == "FULFILLED":
        return "shipped"
    if payment in ("PAID", "PARTIALLY_REFUNDED"):
        return "paid"
    return "open"


def _ebay_line(item: Mapping[str, Any]) -> ShopOrderLine:
    quantity = to_decimal(item.get("quantity"), "quantity")
    cost = money(item.get("lineItemCost"), "value")
    promotions = sum(
        (abs(money(p.get("discountAmount"), "value")) for p in item.get("appliedPromotions") or []),
        ZERO,
    )
    return ShopOrderLine(
        external_id=str(item.get("lineItemId", "")),
        sku=item.get("sku") or "",
        name=item.get("title") or "",
        quantity=quantity,
        unit_price=cost / quantity if quantity else cost,
        price_includes_tax=True,
        discount=promotions,
    )


def map_ebay_order(order: Mapping[str, Any]) -> ShopOrder:
    """Map one order of ``getOrders`` into a :class:`ShopOrder`."""
    pricing = order.get("pricingSummary") or {}
    steps = order.get("fulfillmentStartInstructions") or [{}]
    shipping_step = steps[0].get("shippingStep") or {}
    ship_to = shipping_step.get("shipTo") or {}
    buyer = order.get("buyer") or {}
    registration = buyer.get("buyerRegistrationAddress") or {}
    payments = (order.get("paymentSummary") or {}).get("payments") or [{}]
    shipping = _ebay_address(ship_to)
    billing = _ebay_address(registration) if registration.get("contactAddress") else shipping
    return ShopOrder(
        external_id=str(order.get("orderId") or ""),
        number=str(order.get("salesRecordReference") or order.get("orderId") or ""),
        created_at=parse_datetime(order.get("creationDate"), "creationDate"),
        updated_at=parse_datetime(order.get("lastModifiedDate"), "lastModifiedDate"),
        status=_ebay_status(order),
        payment_method=payments[0].get("paymentMethod") or "",
        is_paid=order.get("orderPaymentStatus") in ("PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED"),
        currency=(pricing.get("total") or {}).get("currency") or "",
        total=money(pricing.get("total"), "value"),
        shipping_total=money(pricing.get("deliveryCost"), "value"),
        discount_total=abs(money(pricing.get("priceDiscount"), "value")),
        customer=make_customer(
            email=registration.get("email") or ship_to.get("email") or "",
            name=registration.get("fullName") or ship_to.get("fullName") or "",
            phone=((registration.get("primaryPhone") or ship_to.get("primaryPhone")) or {}).get(
                "phoneNumber"
            )
            or "",
            company=registration.get("companyName") or "",
        ),
        billing=billing,
        shipping=shipping,
        lines=tuple(_ebay_line(i) for i in order.get("lineItems") or []),
        customer_note=(order.get("buyerCheckoutNotes") or "").strip(),
        shipping_method=str(shipping_step.get("shippingServiceCode") or "").strip(),
        raw=order,
    )
