"""Gambio GX REST API v2 (``/api.php/v2``), HTTP basic auth with an admin account.

New orders: ``GET /api.php/v2/orders?page=&per_page=&sort=-id`` lists order summaries,
newest first; each order's details come from ``GET /api.php/v2/orders/{id}``. The cursor
keeps the highest id imported (``since_id``); a run reads pages until it reaches that id.

Changed orders: the API's change history (``GET /orders?modified=YYYY-MM-DD``, answered
with ``{"updated": [...], "deleted": [...]}``) names the orders modified at a date; it
filters by day, not by time. After the first complete run the cursor also keeps the day
of the last run (``modified``); every later run asks for each day from that one up to
today, so the last run's day is read again (an overlap of up to a day, whichever way
the shop reads the date: "on" or "since"). Orders seen twice are harmless: the glue's
unique key keeps one record per order and an unchanged payload changes nothing. An
order's change time is its newest status history entry (``statusHistory[].dateAdded``),
so a status change (paid, cancelled) reaches the order in Odoo.

Write-back: ``PATCH /orders/{id}/status`` sets the shipped status and adds a status
history entry whose comment names carrier and tracking number (documented body
``{"statusId", "comment", "customerNotified"}``); the order's history
(``GET /orders/{id}/history``) is read first, so a retry never adds it twice.

Stock: the product is found by its article number (``products_model``, our SKU) with the
documented search ``POST /products/search`` and body
``{"search": {"match": {"products.products_model": sku}}}`` (Gambio API v2 reference,
"Search Products", and the guide "Search Example"), then ``PUT /products/{id}`` with
``{"quantity": n}`` ("Update Product"). The shop merges the body into the stored product,
so its other properties stay as they are. Stock kept per property combination
(``settings.usePropertiesCombisQuantity``) has no endpoint in API v2: such a product is
refused with a clear error rather than updated where the shop does not look.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
    UnmappedOrder,
    join_name,
    make_address,
    make_customer,
    parse_datetime,
    to_decimal,
)
from .base import ShipmentLine, map_each, utcnow
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
    # the shop's order status meaning "shipped" (3, "Versendet", in a standard shop)
    shipped_status_id: int = 3
    notify_customer: bool = False  # the shipping mail goes out from Odoo already
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class GambioAdapter:
    """Fetch new and changed orders from one Gambio shop; confirm its shipments."""

    def __init__(
        self,
        settings: GambioSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self._now = now
        self.http = ShopHttpClient(
            settings.policy, auth=(settings.login, settings.password), sleep=sleep, session=session
        )

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/api.php/v2/{path}"

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield pages of orders with an id above the cursor's ``since_id``, newest first,
        then (after a first complete run) the orders changed since the cursor's day."""
        state = _decode(cursor)
        today = self._now().date()
        if state["modified"] is None:
            # the first run reads every order: changes are looked for from today on
            yield from self._fetch_new(state, today)
            return
        fetched: set[int] = set()  # read by this run already: not read twice
        if not state["new_done"]:
            final = yield from self._fetch_new(state, today, fetched)
            state = {**state, "since_id": final}
        yield from self._fetch_changed(state, today, fetched)

    def _fetch_new(
        self, state: dict, today: date, fetched: set[int] | None = None
    ) -> Iterator[OrderPage]:
        """Pages of new orders; returns the new ``since_id`` after the last page."""
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
            orders, unmapped = self._details(new_ids)
            if fetched is not None:
                fetched.update(new_ids)
            max_id = max([max_id, *new_ids])
            done = len(ids) < self.settings.page_size or len(new_ids) < len(ids)
            if done:
                final = max(since_id, max_id)
                if state["modified"] is None:  # first run: done
                    yield OrderPage(orders, _encode(final, today), False, unmapped)
                else:  # the changed orders follow in this run
                    next_cursor = _encode(final, state["modified"], new_done=True)
                    yield OrderPage(orders, next_cursor, True, unmapped)
                return final
            page += 1
            following = {"since_id": since_id, "page": page, "max_id": max_id}
            if state["modified"] is not None:
                following["modified"] = state["modified"].isoformat()
            yield OrderPage(orders, json.dumps(following, sort_keys=True), True, unmapped)

    def _fetch_changed(self, state: dict, today: date, fetched: set[int]) -> Iterator[OrderPage]:
        """Pages of the orders modified on each day from the cursor's day up to today."""
        since_id, day = state["since_id"], state["modified"]
        day = min(day, today)
        while day <= today:
            result = self.http.get(self._url("orders"), params={"modified": day.isoformat()})
            data = result.data if isinstance(result.data, Mapping) else None
            if data is None or not isinstance(data.get("updated", []), list):
                raise PermanentError(f"GET {result.url}: expected a change history object")
            # newer ids are new orders: the next run's first part fetches them
            ids = sorted({int(o["id"]) for o in data.get("updated") or [] if "id" in o})
            ids = [i for i in ids if i <= since_id and i not in fetched]
            fetched.update(ids)
            size = max(self.settings.page_size, 1)
            chunks = [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]
            for number, chunk in enumerate(chunks, start=1):
                orders, unmapped = self._details(chunk)
                last = day == today and number == len(chunks)
                # a run stopped within a day reads that day again: nothing is missed
                yield OrderPage(orders, _encode(since_id, day), not last, unmapped)
            day += timedelta(days=1)

    def _details(self, order_ids: Sequence[int]):
        details, gone = [], []
        for order_id in order_ids:
            try:
                details.append(self.http.get(self._url(f"orders/{order_id}")).data)
            except ShopPermanentError as exc:
                if exc.status != 404:
                    raise
                # listed, then deleted before we read it: recorded, not dropped
                gone.append(UnmappedOrder(str(order_id), str(exc), {"id": order_id}))
        orders, unmapped = map_each(map_gambio_order, details)
        return orders, unmapped + tuple(gone)

    def confirm_shipment(
        self,
        external_id: str,
        carrier: str,
        tracking_ref: str,
        lines: Sequence[ShipmentLine] = (),
    ) -> None:
        """Set the shipped status with a history comment naming carrier and tracking number.

        Gambio has no partial shipments in its API: ``lines`` is ignored. Idempotent: when
        the order's history already has the shipped status with this comment (an earlier
        attempt whose answer was lost), nothing is sent again.
        """
        comment = shipment_comment(carrier, tracking_ref)
        history = self.http.get(self._url(f"orders/{external_id}/history")).data or []
        if not isinstance(history, list):
            raise PermanentError(f"Gambio order {external_id}: history is not a list")
        status_id = self.settings.shipped_status_id
        if any(
            int(entry.get("statusId") or 0) == status_id
            and (entry.get("comment") or "").strip() == comment
            for entry in history
            if isinstance(entry, Mapping)
        ):
            return
        body = {
            "statusId": status_id,
            "comment": comment,
            "customerNotified": self.settings.notify_customer,
        }
        self.http.request("PATCH", self._url(f"orders/{external_id}/status"), json_body=body)

    def push_stock(self, sku: str, quantity: int) -> None:
        """Set ``quantity`` of the product whose article number is ``sku``.

        Exactly one product must carry the number (the shop's search compares
        case-insensitively, so the answer is checked again exactly). ``PUT`` is
        idempotent: a retry after a lost answer sets the same number again.
        """
        search = {"search": {"match": {"products.products_model": sku}}}
        result = self.http.request(
            "POST", self._url("products/search"), json_body=search, idempotent=True
        )
        if not isinstance(result.data, list):
            raise PermanentError(f"POST {result.url}: expected a list of products")
        matches = [
            product
            for product in result.data
            if isinstance(product, Mapping) and (product.get("productModel") or "") == sku
        ]
        if len(matches) != 1:
            raise PermanentError(f"Gambio: {len(matches)} products with article number {sku!r}")
        product = matches[0]
        if (product.get("settings") or {}).get("usePropertiesCombisQuantity"):
            raise PermanentError(
                f"Gambio product {product.get('id')} ({sku}) keeps its stock per property "
                "combination, which the REST API v2 cannot set"
            )
        quantity = int(quantity)
        answer = self.http.request(
            "PUT", self._url(f"products/{int(product['id'])}"), json_body={"quantity": quantity}
        ).data
        if isinstance(answer, Mapping) and answer.get("quantity") is not None:
            stored = to_decimal(answer["quantity"], "quantity")
            if stored != quantity:
                raise PermanentError(
                    f"Gambio product {product['id']} ({sku}): the shop kept quantity {stored}, "
                    f"{quantity} was sent"
                )


def shipment_comment(carrier: str, tracking_ref: str) -> str:
    """The status history comment of a shipment (the shop shows it to the merchant)."""
    parts = [f"Versand mit {carrier}" if carrier else "Versendet"]
    if tracking_ref:
        parts.append(f"Sendungsnummer {tracking_ref}")
    return ", ".join(parts)


def _encode(since_id: int, modified: date, new_done: bool = False) -> str:
    data: dict[str, Any] = {"since_id": since_id, "modified": modified.isoformat()}
    if new_done:
        data["new_done"] = True
    return json.dumps(data, sort_keys=True)


def _decode(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"since_id": 0, "page": 1, "max_id": 0, "modified": None, "new_done": False}
    try:
        data = json.loads(cursor)
        modified = data.get("modified")
        return {
            "since_id": int(data.get("since_id", 0)),
            "page": int(data.get("page", 1)),
            "max_id": int(data.get("max_id", 0)),
            "modified": date.fromisoformat(modified) if modified else None,
            "new_done": bool(data.get("new_done", False)),
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


def _total_titles(order: Mapping[str, Any]) -> dict[str, str]:
    """The shop's own wording of each total line ("Nachnahmegebühr:" → "Nachnahmegebühr"),
    shown to the customer on the order and invoice lines; markup and the colon removed."""
    titles: dict[str, str] = {}
    for total in order.get("totals") or []:
        key = total.get("class") or ""
        title = re.sub(r"<[^>]*>", "", str(total.get("title") or "")).strip().rstrip(":").strip()
        if key and title and key not in titles:
            titles[key] = title
    return titles


def _last_change(order: Mapping[str, Any]) -> datetime:
    """When the order last changed: its newest status history entry, else its
    ``lastModified`` or purchase date (a status change always adds an entry)."""
    stamps = [
        parse_datetime(entry["dateAdded"], "statusHistory.dateAdded")
        for entry in order.get("statusHistory") or []
        if isinstance(entry, Mapping) and entry.get("dateAdded")
    ]
    stamps.append(
        parse_datetime(order.get("lastModified") or order.get("purchaseDate"), "lastModified")
    )
    return max(stamps)


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
    fees = _gambio_fees(order, totals)
    currency = _gambio_currency(order)
    stamp = _last_change(order)
    shipping_type = order.get("shippingType") or {}
    return ShopOrder(
        external_id=str(order.get("id") or ""),
        number=str(order.get("id") or ""),
        created_at=parse_datetime(order.get("purchaseDate"), "purchaseDate"),
        updated_at=stamp,
        status=GAMBIO_STATUS.get(status_id, "open"),
        payment_method=(order.get("paymentType") or {}).get("module") or "",
        is_paid=status_id in (2, 3),
        currency=currency or "",
        total=totals["ot_total"],
        shipping_total=totals.get("ot_shipping", ZERO),
        discount_total=sum((abs(totals.get(c, ZERO)) for c in DISCOUNT_CLASSES), ZERO),
        customer=_gambio_customer(customer, billing),
        billing=billing,
        shipping=_gambio_address(addresses.get("delivery") or addresses.get("billing")),
        lines=tuple(_gambio_line(item) for item in order.get("items") or []),
        fees=fees,
        customer_note=(order.get("comment") or "").strip(),
        shipping_method=str(shipping_type.get("module") or "").strip(),
        shipping_method_title=str(shipping_type.get("title") or "").strip(),
        raw=order,
    )


def _gambio_fees(order: Mapping[str, Any], totals: Mapping[str, Decimal]) -> tuple[ShopFee, ...]:
    """Fee total lines as fees with the shop's wording; a voucher is a negative fee."""
    titles = _total_titles(order)
    return tuple(
        ShopFee(kind, totals[cls] if kind != "voucher" else -abs(totals[cls]), titles.get(cls, cls))
        for cls, kind in FEE_CLASSES.items()
        if totals.get(cls)
    )


def _gambio_currency(order: Mapping[str, Any]) -> Any:
    """``currencyCode`` is a code, or an object holding it (``{"code": "EUR"}``)."""
    currency = order.get("currencyCode")
    if isinstance(currency, dict):
        currency = currency.get("code")
    return currency


def _gambio_customer(customer: Mapping[str, Any], billing: ShopAddress) -> ShopCustomer:
    return make_customer(
        email=customer.get("email") or "",
        name=billing.name,
        phone=customer.get("phone") or "",
        company=billing.company,
    )


def _gambio_line(item: Mapping[str, Any]) -> ShopOrderLine:
    return ShopOrderLine(
        external_id=str(item.get("id", "")),
        sku=item.get("model") or "",
        name=item.get("name") or "",
        quantity=to_decimal(item.get("quantity"), "quantity"),
        unit_price=to_decimal(item.get("price"), "price"),
        price_includes_tax=True,
        tax_rate=to_decimal(item.get("tax"), "tax") if item.get("tax") is not None else None,
    )
