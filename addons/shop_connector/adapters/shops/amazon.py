"""Amazon Selling Partner API, Orders v0.

Orders: ``GET /orders/v0/orders?MarketplaceIds=&LastUpdatedAfter=``, next pages by
``NextToken``; items per order: ``GET /orders/v0/orders/{id}/orderItems`` (paged the same
way). Auth: a Login-with-Amazon access token (refresh-token grant at ``token_url``) in
``x-amz-access-token``. Amounts are ``{"CurrencyCode": "EUR", "Amount": "12.34"}``;
``ItemPrice`` is the price of the whole quantity, tax included on EU marketplaces.
Buyer e-mail and address are restricted data: the token must allow them (RDT).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

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
    make_address,
    make_customer,
    money,
    parse_datetime,
    to_decimal,
)
from .base import ImportCursor, ShipmentLine, map_each, utcnow
from .http import HttpPolicy, ShopHttpClient
from .tokens import AccessToken

AMAZON_STATUS = {
    "Pending": "pending",
    "PendingAvailability": "pending",
    "Unshipped": "paid",
    "PartiallyShipped": "paid",
    "Unfulfillable": "paid",
    "Shipped": "shipped",
    "InvoiceUnconfirmed": "shipped",
    "Canceled": "cancelled",
}


@dataclass(frozen=True, slots=True)
class AmazonSettings:
    """``endpoint`` like ``https://sellingpartnerapi-eu.amazon.com``."""

    endpoint: str
    marketplace_ids: tuple[str, ...]
    client_id: str
    client_secret: str
    refresh_token: str
    token_url: str = "https://api.amazon.com/auth/o2/token"
    seller_id: str = ""
    page_size: int = 100
    import_since: datetime | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class AmazonAdapter:
    """Fetch orders of the seller's marketplaces; confirm merchant-fulfilled shipments."""

    def __init__(
        self,
        settings: AmazonSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        if not settings.marketplace_ids:
            raise PermanentError("Amazon: at least one marketplace id is needed")
        self.settings = settings
        self._now = now
        self.http = ShopHttpClient(settings.policy, sleep=sleep, session=session)
        self.token = AccessToken(
            self.http,
            settings.token_url,
            {
                "grant_type": "refresh_token",
                "refresh_token": settings.refresh_token,
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            },
        )

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        url = f"{self.settings.endpoint.rstrip('/')}{path}"
        result = self.http.get(url, params=params, headers=self._auth())
        payload = (result.data or {}).get("payload") if isinstance(result.data, dict) else None
        if not isinstance(payload, dict):
            raise PermanentError(f"GET {result.url}: response without a payload")
        return payload

    def _auth(self) -> dict[str, str]:
        return {"x-amz-access-token": self.token.get()}

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders updated since the cursor, each with its items."""
        state = ImportCursor.decode(cursor, self.settings.import_since).started(self._now())
        marketplaces = ",".join(self.settings.marketplace_ids)
        while True:
            params: dict[str, Any] = {"MarketplaceIds": marketplaces}
            if state.page:
                params["NextToken"] = state.page
            else:
                params["MaxResultsPerPage"] = self.settings.page_size
                since = state.since or datetime(2000, 1, 1, tzinfo=timezone.utc)
                params["LastUpdatedAfter"] = format_datetime(since)
            payload = self._get("/orders/v0/orders", params)
            payloads = [
                {**o, "OrderItems": self.order_items(o["AmazonOrderId"])}
                for o in payload.get("Orders") or []
            ]
            orders, unmapped = map_each(map_amazon_payload, payloads, ("AmazonOrderId",))
            token = payload.get("NextToken")
            if not token:
                yield OrderPage(orders, state.finished(orders), False, unmapped)
                return
            state = state.advance(orders, token)
            yield OrderPage(orders, state.encode(), True, unmapped)

    def order_items(self, order_id: str) -> list[dict]:
        """All items of one order, following ``NextToken``."""
        items: list[dict] = []
        params: dict[str, Any] = {}
        while True:
            payload = self._get(f"/orders/v0/orders/{order_id}/orderItems", params)
            items.extend(payload.get("OrderItems") or [])
            if not payload.get("NextToken"):
                return items
            params = {"NextToken": payload["NextToken"]}

    def confirm_shipment(
        self,
        external_id: str,
        carrier: str,
        tracking_ref: str,
        lines: Sequence[ShipmentLine] = (),
        ship_date: datetime | None = None,
    ) -> bool:
        """Confirm a merchant-fulfilled shipment; ``lines`` empty ships all open items.

        Idempotent: an order Amazon already lists as shipped is left alone (``False``).
        """
        order = self._get(f"/orders/v0/orders/{external_id}")
        if order.get("OrderStatus") in ("Shipped", "Canceled", "InvoiceUnconfirmed"):
            return False
        if lines:
            items = [{"orderItemId": li.external_line_id, "quantity": li.quantity} for li in lines]
        else:
            items = [
                {"orderItemId": i["OrderItemId"], "quantity": left}
                for i in self.order_items(external_id)
                if (left := int(i.get("QuantityOrdered", 0)) - int(i.get("QuantityShipped", 0))) > 0
            ]
        body = {
            "marketplaceId": order.get("MarketplaceId") or self.settings.marketplace_ids[0],
            "packageDetail": {
                "packageReferenceId": tracking_ref,
                "carrierCode": carrier,
                "trackingNumber": tracking_ref,
                "shipDate": format_datetime(ship_date or datetime.now(timezone.utc)),
                "orderItems": items,
            },
        }
        base = self.settings.endpoint.rstrip("/")
        url = f"{base}/orders/v0/orders/{external_id}/shipmentConfirmation"
        self.http.request("POST", url, json_body=body, headers=self._auth())
        return True

    def push_stock(self, sku: str, quantity: int) -> None:
        """Set the merchant-fulfilled quantity of listing ``sku`` (Listings Items API).

        Amazon validates the patch asynchronously; an ``INVALID`` answer is refused at
        once with Amazon's issue messages.
        """
        if not self.settings.seller_id:
            raise PermanentError("Amazon: a seller id is needed to push stock")
        base = self.settings.endpoint.rstrip("/")
        url = (
            f"{base}/listings/2021-08-01/items/{quote(self.settings.seller_id, safe='')}"
            f"/{quote(sku, safe='')}"
        )
        body = {
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": int(quantity)}],
                }
            ],
        }
        result = self.http.request(
            "PATCH",
            url,
            params={"marketplaceIds": ",".join(self.settings.marketplace_ids)},
            json_body=body,
            headers=self._auth(),
            idempotent=True,
        )
        answer = result.data if isinstance(result.data, dict) else {}
        if answer.get("status") != "ACCEPTED":
            issues = "; ".join(
                f"{i.get('code')}: {i.get('message')}" for i in answer.get("issues") or []
            )
            raise PermanentError(
                f"Amazon refused the stock of {sku!r} ({answer.get('status')}): {issues}"
            )


def _sum(items: Sequence[Mapping[str, Any]], key: str) -> Decimal:
    return sum((money(i.get(key)) for i in items), ZERO)


def _amazon_line(item: Mapping[str, Any]) -> ShopOrderLine:
    quantity = to_decimal(item.get("QuantityOrdered"), "QuantityOrdered")
    price = money(item.get("ItemPrice"))
    return ShopOrderLine(
        external_id=str(item.get("OrderItemId", "")),
        sku=item.get("SellerSKU") or "",
        name=item.get("Title") or "",
        quantity=quantity,
        unit_price=price / quantity if quantity else price,
        price_includes_tax=True,
        discount=money(item.get("PromotionDiscount")),
    )


def map_amazon_payload(payload: Mapping[str, Any]) -> ShopOrder:
    """Map an order stored with its items under ``OrderItems`` (as the import keeps it)."""
    return map_amazon_order(payload, payload.get("OrderItems") or [])


def map_amazon_order(order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> ShopOrder:
    """Map a getOrders order and its getOrderItems items into a :class:`ShopOrder`."""
    status = order.get("OrderStatus") or ""
    if status not in AMAZON_STATUS:
        raise PermanentError(f"Amazon order {order.get('AmazonOrderId')}: status {status!r}")
    buyer = order.get("BuyerInfo") or {}
    address = order.get("ShippingAddress") or {}
    shipping = _amazon_address(address)
    cod = _sum(items, "CODFee") - _sum(items, "CODFeeDiscount")
    payment = order.get("PaymentMethod") or ""
    return ShopOrder(
        external_id=str(order.get("AmazonOrderId") or ""),
        number=str(order.get("AmazonOrderId") or ""),
        created_at=parse_datetime(order.get("PurchaseDate"), "PurchaseDate"),
        updated_at=parse_datetime(order.get("LastUpdateDate"), "LastUpdateDate"),
        status=AMAZON_STATUS[status],
        payment_method=payment,
        is_paid=AMAZON_STATUS[status] in ("paid", "shipped") and payment != "COD",
        currency=(order.get("OrderTotal") or {}).get("CurrencyCode") or "",
        total=money(order.get("OrderTotal")),
        shipping_total=_sum(items, "ShippingPrice"),
        discount_total=_sum(items, "PromotionDiscount") + _sum(items, "ShippingDiscount"),
        customer=_amazon_customer(buyer, address),
        billing=shipping,
        shipping=shipping,
        lines=tuple(_amazon_line(i) for i in items),
        fees=(ShopFee("cod", cod, "COD"),) if cod else (),
        shipping_method=str(order.get("ShipmentServiceLevelCategory") or "").strip(),
        shipping_method_title=str(order.get("ShipServiceLevel") or "").strip(),
        raw={**order, "OrderItems": list(items)},
    )


def _amazon_address(address: Mapping[str, Any]) -> ShopAddress:
    """The ``ShippingAddress`` (Amazon gives no billing address: it serves for both)."""
    return make_address(
        name=address.get("Name") or "",
        company=address.get("CompanyName") or "",
        street=address.get("AddressLine1") or "",
        street2=" ".join(
            x for x in (address.get("AddressLine2"), address.get("AddressLine3")) if x
        ),
        zip_code=address.get("PostalCode") or "",
        city=address.get("City") or "",
        country_code=address.get("CountryCode") or "",
        state=address.get("StateOrRegion") or "",
    )


def _amazon_customer(buyer: Mapping[str, Any], address: Mapping[str, Any]) -> ShopCustomer:
    """The buyer; name, phone and company fall back to the shipping address."""
    return make_customer(
        email=buyer.get("BuyerEmail") or "",
        name=buyer.get("BuyerName") or address.get("Name") or "",
        phone=address.get("Phone") or "",
        company=buyer.get("BuyerCompanyName") or address.get("CompanyName") or "",
    )
