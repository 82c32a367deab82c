import pytest

from shopaddons.shop_connector.adapters.shops.registry import supports_write_back


@pytest.mark.parametrize(
    "backend_type", ["amazon", "ebay", "shopify", "woocommerce", "shopware6", "gambio"]
)
@pytest.mark.parametrize("operation", ["confirm_shipment", "push_stock"])
def test_api_shops_take_shipments_and_stock(backend_type, operation):
    assert supports_write_back(backend_type, operation)


@pytest.mark.parametrize("backend_type", ["yatego", "generic", "unknown"])
@pytest.mark.parametrize("operation", ["confirm_shipment", "push_stock"])
def test_file_shops_take_nothing_back(backend_type, operation):
    assert not supports_write_back(backend_type, operation)


def test_an_unknown_operation_is_a_programming_error():
    with pytest.raises(ValueError):
        supports_write_back("shopify", "cancel_order")
