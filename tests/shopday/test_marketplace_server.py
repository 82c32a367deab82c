"""The shop day's eBay server against the connector's real eBay adapter (no Odoo)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shopaddons.shop_connector.adapters.shops.ebay import EbayAdapter, EbaySettings
from shopday import scenario
from shopday.world import ApiServer

START = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)


@pytest.fixture
def server():
    day = scenario.make_day(40, seed=1, start=START)
    api = ApiServer(day).start()
    yield api, day
    api.stop()


def _adapter(api, page_size=5):
    return EbayAdapter(
        EbaySettings(
            endpoint=f"{api.url}/ebay",
            client_id="client",
            client_secret="secret",
            refresh_token="consent",
            token_url=f"{api.url}/ebay/identity/v1/oauth2/token",
            page_size=page_size,
            import_since=datetime(2026, 1, 1, tzinfo=timezone.utc),
        )
    )


def test_orders_pages_and_shipment_write_back(server):
    api, day = server
    ebay = day.by_platform("ebay")
    api.release(day.orders[:30])
    adapter = _adapter(api)
    pages = list(adapter.fetch_orders(None))
    assert len(pages) == 2  # 9 orders, 5 a page
    fetched = [o for page in pages for o in page.orders]
    assert [o.external_id for o in fetched] == [o.external_id for o in ebay[:9]]
    assert all(o.is_paid and o.customer.is_masked_marketplace_email for o in fetched)
    assert not any(page.unmapped for page in pages)
    # the next run goes on from the last page's cursor and finds the later orders
    api.release(day.orders[30:])
    later = {
        o.external_id for page in adapter.fetch_orders(pages[-1].next_cursor) for o in page.orders
    }
    assert later >= {o.external_id for o in ebay[9:]}

    order = ebay[0]
    assert adapter.confirm_shipment(order.external_id, "DHL", "00340434000000000001")
    key = f"ebay:{order.external_id}"
    assert [f["shipmentTrackingNumber"] for f in api.shipments[key]] == ["00340434000000000001"]
    items = api.shipments[key][0]["lineItems"]
    assert [i["quantity"] for i in items] == [line.quantity for line in order.lines]
    # idempotent: the same tracking number is not written twice
    assert not adapter.confirm_shipment(order.external_id, "DHL", "00340434000000000001")
    assert len(api.shipments[key]) == 1
    assert api.errors == []


def test_refused_token_request(server):
    api, _day = server
    adapter = EbayAdapter(
        EbaySettings(
            endpoint=f"{api.url}/ebay",
            client_id="client",
            client_secret="secret",
            refresh_token="",
            token_url=f"{api.url}/ebay/identity/v1/oauth2/token",
        )
    )
    with pytest.raises(Exception, match=r"400|invalid_grant"):
        list(adapter.fetch_orders(None))
