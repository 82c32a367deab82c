"""Mapping functions by platform, for the glue to map a stored raw payload again.

Keys are the ``shop.backend.backend_type`` values. The import stores each order's raw
payload first; processing (and a retry after a mapping failure was fixed) maps it with
``PAYLOAD_MAPPERS[backend_type](payload)``. CSV imports (Yatego, generic CSV) store the
file's rows; they are mapped again with :func:`...services.order_generic.orders_from_csv`
and the backend's column mapping, not from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...services.order_generic import order_from_json
from ...services.orders import ShopOrder
from .amazon import AmazonAdapter, map_amazon_payload
from .ebay import EbayAdapter, map_ebay_order
from .gambio import GambioAdapter, map_gambio_order
from .shopify import ShopifyAdapter, map_shopify_order
from .shopware import ShopwareAdapter, map_shopware_order
from .woocommerce import WooCommerceAdapter, map_woocommerce_order

PAYLOAD_MAPPERS: Mapping[str, Callable[[Mapping[str, Any]], ShopOrder]] = {
    "amazon": map_amazon_payload,
    "ebay": map_ebay_order,
    "shopify": map_shopify_order,
    "woocommerce": map_woocommerce_order,
    "shopware6": map_shopware_order,
    "gambio": map_gambio_order,
    "generic": order_from_json,
}


# what each platform's adapter can write back; Yatego and generic file imports only read
# orders, so their shipments and stock are kept in the shop by hand
_ADAPTER_CLASSES: Mapping[str, type] = {
    "amazon": AmazonAdapter,
    "ebay": EbayAdapter,
    "shopify": ShopifyAdapter,
    "woocommerce": WooCommerceAdapter,
    "shopware6": ShopwareAdapter,
    "gambio": GambioAdapter,
}
WRITE_BACK_OPERATIONS = ("confirm_shipment", "push_stock")


def supports_write_back(backend_type: str, operation: str) -> bool:
    """Whether a ``backend_type``'s adapter offers ``operation`` (see WRITE_BACK_OPERATIONS)."""
    if operation not in WRITE_BACK_OPERATIONS:
        raise ValueError(f"unknown write-back operation {operation!r}")
    return callable(getattr(_ADAPTER_CLASSES.get(backend_type), operation, None))
