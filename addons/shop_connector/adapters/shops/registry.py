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
from .amazon import map_amazon_payload
from .ebay import map_ebay_order
from .gambio import map_gambio_order
from .shopify import map_shopify_order
from .shopware import map_shopware_order
from .woocommerce import map_woocommerce_order

PAYLOAD_MAPPERS: Mapping[str, Callable[[Mapping[str, Any]], ShopOrder]] = {
    "amazon": map_amazon_payload,
    "ebay": map_ebay_order,
    "shopify": map_shopify_order,
    "woocommerce": map_woocommerce_order,
    "shopware6": map_shopware_order,
    "gambio": map_gambio_order,
    "generic": order_from_json,
}
