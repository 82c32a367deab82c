"""Gambio GX REST API v2 (``/api.php/v2``), HTTP basic auth with an admin account.

``GET /api.php/v2/orders?page=&per_page=&sort=-id`` lists order summaries, newest first;
each order's details come from ``GET /api.php/v2/orders/{id}``. The API cannot filter
by modification date, so the import follows order ids: the cursor keeps the highest id
imported (``since_id``); a run reads pages until it reaches that id. Later changes to an
imported order (payment, cancellation) are not seen by this import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from ....mail_crm_shop.services.errors import PermanentError
from ...services.orders import (
    ZERO,
    OrderPage,
    ShopAddress,
    ShopFee,
    ShopOrder,
    ShopOrderLine,
    UnmappedOrder,
    join_name,
    make_address,
    make_customer,
    parse_datetime,
    to_decimal,
)
from .base import map_each
from .http import HttpPolicy, ShopHttpClient, ShopPermanentError

# xt:Commerce/Gambio country ids of the countries our merchants ship to most
GAMBIO_COUNTRY_IDS = {
    14: "AT",
    21: "BE",
    56: "CZ",
    57: "DK",
    73: "FR",
    81: "DE",
    105: "IT",
    124: "LU",
    150: "NL",
    170: "PL",
    195: "ES",
    203: "SE",
    204: "CH",
    222: "GB",
    223: "US",
}
GAMBIO_STATUS = {1: "open", 2: "paid", 3: "shipped", 99: "cancelled"}
FEE_CLASSES = {"ot_cod_fee": "cod", "ot_payment": "payment", "ot_gv": "voucher"}
DISCOUNT_CLASSES = ("ot_coupon", "ot_discount")


@dataclass(frozen=True, slots=True)
class GambioSettings:
    """``base_url`` the shop root; an admin login for the REST API."""

    base_url: str
    login: str
    password: str
    page_size: int = 50
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class GambioAdapter:
    """Fetch new orders from one Gambio shop."""

    def __init__(
        self,
        settings: GambioSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        self.settings = settings
        self.http = ShopHttpClient(
            settings.policy, auth=(settings.login, settings.password), sleep=sleep, session=session
        )

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/api.php/v2/{path}"

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders with an id above the cursor's ``since_id``, newest first."""
        state = _decode(cursor)
        since_id, page, max_id = state["since_id"], state["page"], state["max_id"]
        last_ids: list[int] = []
        while True:
            params = {"page": page, "per_page": self.settings.page_size, "sort": "-id"}
            result = self.http.get(self._url("orders"), params=params)
            if not isinstance(result.data, list):
                raise PermanentError(f"GET {result.url}: expected a list of orders")
            ids = [int(o["id"]) for o in result.data]
            if ids != sorted(ids, reverse=True) or (last_ids and ids and ids[0] >= last_ids[-1]):
                # the shop ignored page or sort: paging on could loop for ever
                raise PermanentError(f"GET {result.url}: pages not sorted by descending id")
            last_ids = ids
            new_ids = [i for i in ids if i > since_id]
            details, gone = [], []
            for order_id in new_ids:
                try:
                    details.append(self.http.get(self._url(f"orders/{order_id}")).data)
                except ShopPermanentError as exc:
                    if exc.status != 404:
                        raise
                    # listed, then deleted before we read it: recorded, not dropped
                    gone.append(UnmappedOrder(str(order_id), str(exc), {"id": order_id}))
            orders, unmapped = map_each(map_gambio_order, details)
            unmapped += tuple(gone)
            max_id = max([max_id, *new_ids])
            done = len(ids) < self.settings.page_size or len(new_ids) < len(ids)
            if done:
                final = {"since_id": max(since_id, max_id)}
                yield OrderPage(orders, json.dumps(final), False, unmapped)
                return
            page += 1
            following = {"since_id": since_id, "page": page, "max_id": max_id}
            yield OrderPage(orders, json.dumps(following, sort_keys=True), True, unmapped)


def _decode(cursor: str | None) -> dict[str, int]:
    if not cursor:
        return {"since_id": 0, "page": 1, "max_id": 0}
    try:
        data = json.loads(cursor)
        return {
            "since_id": int(data.get("since_id", 0)),
            "page": int(data.get("page", 1)),
            "max_id": int(data.get("max_id", 0)),
        }
    except (ValueError, TypeError, AttributeError):
        raise PermanentError(f"unreadable Gambio import cursor {cursor!r}") from None


def _gambio_address(data: Mapping[str, Any] | None) -> ShopAddress:
    data = data or {}
    country = data.get("country") if isinstance(data.get("country"), dict) else {}
    code = (
        data.get("countryIsoCode")
        or country.get("iso2")
        or GAMBIO_COUNTRY_IDS.get(int(data.get("countryId") or 0), "")
    )
    return make_address(
        name=join_name(data.get("firstname"), data.get("lastname")),
        company=data.get("company") or "",
        street=join_name(data.get("street"), data.get("houseNumber")),
        street2=data.get("additionalAddressInfo") or "",
        zip_code=str(data.get("postcode") or ""),
        city=data.get("city") or "",
        country_code=code,
    )


def _totals(order: Mapping[str, Any]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for total in order.get("totals") or []:
        key = total.get("class") or ""
        sums[key] = sums.get(key, ZERO) + to_decimal(total.get("value"), key)
    return sums


def map_gambio_order(order: Mapping[str, Any]) -> ShopOrder:
    """Map one ``GET /orders/{id}`` answer into a :class:`ShopOrder` (prices gross)."""
    if not isinstance(order, Mapping):
        raise PermanentError("Gambio: order details are not an object")
    totals = _totals(order)
    if "ot_total" not in totals:
        raise PermanentError(f"Gambio order {order.get('id')}: no ot_total in totals")
    addresses = order.get("addresses") or {}
    billing = _gambio_address(addresses.get("billing"))
    customer = order.get("customer") or {}
    status_id = int(order.get("statusId") or 0)
    fees = tuple(
        ShopFee(kind, totals[cls] if kind != "voucher" else -abs(totals[cls]), cls)
        for cls, kind in FEE_CLASSES.items()
        if totals.get(cls)
    )
    currency = order.get("currencyCode")
    if isinstance(currency, dict):
        currency = currency.get("code")
    stamp = order.get("lastModified") or order.get("purchaseDate")
    shipping_type = order.get("shippingType") or {}
    return ShopOrder(
        external_id=str(order.get("id") or ""),
        number=str(order.get("id") or ""),
        created_at=parse_datetime(order.get("purchaseDate"), "purchaseDate"),
        updated_at=parse_datetime(stamp, "lastModified"),
        status=GAMBIO_STATUS.get(status_id, "open"),
        payment_method=(order.get("paymentType") or {}).get("module") or "",
        is_paid=status_id in (2, 3),
        currency=currency or "",
        total=totals["ot_total"],
        shipping_total=totals.get("ot_shipping", ZERO),
        discount_total=sum((abs(totals.get(c, ZERO)) for c in DISCOUNT_CLASSES), ZERO),
        customer=make_customer(
            email=customer.get("email") or "",
            name=billing.name,
            phone=customer.get("phone") or "",
            company=billing.company,
        ),
        billing=billing,
        shipping=_gambio_address(addresses.get("delivery") or addresses.get("billing")),
        lines=tuple(
            ShopOrderLine(
                external_id=str(item.get("id", "")),
                sku=item.get("model") or "",
                name=item.get("name") or "",
                quantity=to_decimal(item.get("quantity"), "quantity"),
                unit_price=to_decimal(item.get("price"), "price"),
                price_includes_tax=True,
                tax_rate=to_decimal(item.get("tax"), "tax")
                if item.get("tax") is not None
                else None,
            )
            for item in order.get("items") or []
        ),
        fees=fees,
        customer_note=(order.get("comment") or "").strip(),
        shipping_method=str(shipping_type.get("module") or "").strip(),
        shipping_method_title=str(shipping_type.get("title") or "").strip(),
        raw=order,
    )
