"""Orders pushed to us over HTTP: who may push, and what the pushed document holds.

A shop (or a middleware) POSTs orders to its backend's push address. It proves who it
is with the backend's push token (``Authorization: Bearer <token>``); Shopify and
WooCommerce webhooks cannot send that header and sign the body instead (HMAC-SHA256
with the webhook secret, base64, in ``X-Shopify-Hmac-Sha256`` / ``X-WC-Webhook-Signature``).

The body is mapped with the backend's payload mapping (our generic JSON format, or the
platform's own order JSON): one order, a list of orders or ``{"orders": [...]}``. Any
order that cannot be mapped refuses the whole document, so nothing is half stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ...mail_crm_shop.services.errors import PermanentError
from .orders import ShopOrder

MAX_PUSH_BYTES = 10 * 1024 * 1024
SIGNATURE_HEADERS = {
    "shopify": "X-Shopify-Hmac-Sha256",
    "woocommerce": "X-WC-Webhook-Signature",
}
# webhook topics carrying an order; other topics are acknowledged and ignored
ORDER_TOPICS = {
    "shopify": ("orders/create", "orders/updated", "orders/paid", "orders/cancelled"),
    "woocommerce": ("order.created", "order.updated", "order.restored"),
}
TOPIC_HEADERS = {"shopify": "X-Shopify-Topic", "woocommerce": "X-WC-Webhook-Topic"}
# what a mapping function raises on a payload of the wrong shape
_MAPPING_ERRORS = (PermanentError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError)
_BEARER_RE = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)
_WOO_PING_RE = re.compile(r"webhook_id=\d+")


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; ``""`` for anything else."""
    match = _BEARER_RE.match(authorization or "")
    return match.group(1) if match else ""


def token_matches(expected: str | None, given: str | None) -> bool:
    """Whether ``given`` is the push token ``expected``, compared in constant time.

    An empty expected token (push switched off) matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def webhook_signature(body: bytes, secret: str) -> str:
    """The base64 HMAC-SHA256 of ``body`` with ``secret``, as Shopify and WooCommerce sign."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(body: bytes, secret: str | None, signature: str | None) -> bool:
    """Whether ``signature`` is the webhook signature of ``body``; no secret matches nothing."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(webhook_signature(body, secret).encode(), signature.strip().encode())


def is_order_topic(backend_type: str, topic: str | None) -> bool:
    """Whether a webhook of ``topic`` carries an order (no topic header: assume it does)."""
    if not topic or backend_type not in ORDER_TOPICS:
        return True
    return topic.strip().lower() in ORDER_TOPICS[backend_type]


def is_woocommerce_ping(body: bytes, form: Mapping[str, str] | None = None) -> bool:
    """WooCommerce's test delivery when a webhook is saved: ``webhook_id=<n>``, no order.

    ``form``: the body as parsed form fields, when the server parsed it already."""
    if form:
        return set(form) == {"webhook_id"} and str(form["webhook_id"]).isdigit()
    return bool(_WOO_PING_RE.fullmatch(body.strip().decode("latin-1")))


def orders_from_push(
    body: bytes, mapper: Callable[[Mapping[str, Any]], ShopOrder]
) -> tuple[ShopOrder, ...]:
    """The orders of a pushed JSON document, each mapped with ``mapper``.

    Raises a :class:`PermanentError` naming the problem for an empty or oversized body,
    a body that is not JSON, a document of the wrong shape, no order at all, or any
    order that cannot be mapped (an order without id included)."""
    if not body or not body.strip():
        raise PermanentError("the request has no body: send the orders as JSON")
    if len(body) > MAX_PUSH_BYTES:
        raise PermanentError(f"the body is larger than {MAX_PUSH_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PermanentError(f"not a JSON document: {exc}") from None
    if isinstance(data, Mapping) and "orders" in data:
        data = data["orders"]
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise PermanentError("the JSON document must hold an order, a list or {'orders': [...]}")
    if not data:
        raise PermanentError("the JSON document holds no order")
    orders = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise PermanentError(f"order {index + 1}: must be a JSON object")
        try:
            orders.append(mapper(item))  # a ShopOrder always has an external id
        except _MAPPING_ERRORS as exc:
            if isinstance(exc, PermanentError):
                raise PermanentError(f"order {index + 1}: {exc}") from None
            raise PermanentError(f"order {index + 1}: {type(exc).__name__}: {exc}") from None
    return tuple(orders)
