"""Orders pushed over HTTP: token, webhook signatures and the pushed document."""

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.shop_connector.adapters.shops.shopify import map_shopify_order
from shopaddons.shop_connector.services import order_push
from shopaddons.shop_connector.services.order_generic import order_from_json, orders_from_json
from shopaddons.shop_connector.services.order_push import (
    bearer_token,
    is_order_topic,
    is_woocommerce_ping,
    orders_from_push,
    signature_matches,
    token_matches,
    webhook_signature,
)

from ..conftest import ROOT

GENERIC = ROOT / "tests" / "data" / "shops" / "generic" / "orders.json"
SHOPIFY = ROOT / "addons" / "shop_connector" / "tests" / "data" / "shopify_order.json"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc-DEF_123", "abc-DEF_123"),
        ("bearer  abc ", "abc"),
        ("Basic abc", ""),
        ("Bearer", ""),
        ("Bearer a b", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_bearer_token_is_read_from_the_authorization_header(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    ("expected", "given", "ok"),
    [
        ("s3cret", "s3cret", True),
        ("s3cret", "s3cre", False),
        ("s3cret", "S3CRET", False),
        ("s3cret", "", False),
        ("", "", False),
        (None, None, False),
        (False, "", False),
    ],
)
def test_token_matches_only_the_exact_nonempty_token(expected, given, ok):
    assert token_matches(expected, given) is ok


def test_webhook_signature_is_the_base64_hmac_sha256_of_the_body():
    body = b'{"id": 820982911946154508}'
    expected = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest()).decode()
    assert webhook_signature(body, "hush") == expected
    assert signature_matches(body, "hush", expected)
    assert signature_matches(body, "hush", f" {expected}\n")
    assert not signature_matches(body + b" ", "hush", expected)
    assert not signature_matches(body, "other", expected)
    assert not signature_matches(body, "", webhook_signature(body, ""))
    assert not signature_matches(body, "hush", None)


@pytest.mark.parametrize(
    ("backend_type", "topic", "is_order"),
    [
        ("shopify", "orders/create", True),
        ("shopify", "orders/updated", True),
        ("shopify", "products/update", False),
        ("woocommerce", "order.created", True),
        ("woocommerce", "order.deleted", False),
        ("woocommerce", None, True),
        ("generic", "anything", True),
    ],
)
def test_only_order_topics_carry_orders(backend_type, topic, is_order):
    assert is_order_topic(backend_type, topic) is is_order


def test_woocommerce_ping_is_recognised_raw_or_parsed():
    assert is_woocommerce_ping(b"webhook_id=42")
    assert is_woocommerce_ping(b"", {"webhook_id": "42"})
    assert not is_woocommerce_ping(b"webhook_id=42&x=1")
    assert not is_woocommerce_ping(b'{"webhook_id": 42}')
    assert not is_woocommerce_ping(b"", {"webhook_id": "42", "orders": "1"})


def test_generic_push_reads_what_the_file_import_reads():
    body = GENERIC.read_bytes()
    pushed = orders_from_push(body, order_from_json)
    assert pushed
    assert pushed == orders_from_json(body)
    first = json.loads(body)["orders"][0]
    assert orders_from_push(json.dumps(first).encode(), order_from_json) == pushed[:1]
    assert orders_from_push(json.dumps([first]).encode(), order_from_json) == pushed[:1]


def test_shopify_webhook_body_is_mapped_with_the_platform_mapping():
    (order,) = orders_from_push(SHOPIFY.read_bytes(), map_shopify_order)
    assert order.external_id == str(json.loads(SHOPIFY.read_text())["id"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "no body"),
        (b"  \n", "no body"),
        (b"{ nope", "not a JSON document"),
        (b"[]", "no order"),
        (b'{"orders": []}', "no order"),
        (b"42", "must hold an order"),
        (b'[{"external_id": "A"}, 7]', "order 1: order A: missing"),
        (b'[{"x": 1}]', "order 1"),
    ],
)
def test_bad_documents_are_refused_whole(body, message):
    with pytest.raises(PermanentError, match=message):
        orders_from_push(body, order_from_json)


def test_one_bad_order_refuses_the_document():
    orders = json.loads(GENERIC.read_text())["orders"]
    bad = dict(orders[0], total="zwölf")
    with pytest.raises(PermanentError, match=f"order {len(orders) + 1}: .*total"):
        orders_from_push(json.dumps([*orders, bad]).encode(), order_from_json)


def test_a_webhook_order_without_id_is_refused():
    payload = json.loads(SHOPIFY.read_text())
    del payload["id"]
    with pytest.raises(PermanentError, match="order 1: order without an external id"):
        orders_from_push(json.dumps(payload).encode(), map_shopify_order)


def test_body_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(order_push, "MAX_PUSH_BYTES", 10)
    with pytest.raises(PermanentError, match="larger than 10 bytes"):
        orders_from_push(b'{"orders": [1]}', order_from_json)


@given(st.binary(max_size=200))
def test_any_body_is_either_orders_or_a_permanent_error(body):
    try:
        orders = orders_from_push(body, order_from_json)
    except PermanentError:
        return
    assert orders and all(order.external_id for order in orders)
