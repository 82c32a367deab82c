import json
from unittest.mock import patch

from psycopg2.errors import UniqueViolation

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..adapters.shops.files import parse_order_file
from ..services import order_push
from ..services.orders import OrderPage
from .common import ShopConnectorCase, shopify_payload

PUSH_LOGGER = "odoo.addons.shop_connector.controllers.push"


def generic_order(**changes):
    order = {
        "external_id": "WEB-7",
        "number": "7",
        "created_at": "2024-07-06T09:00:00Z",
        "status": "paid",
        "payment_method": "paypal",
        "currency": "EUR",
        "total": "24.90",
        "customer": {"email": "jan@example.de", "name": "Jan Muster"},
        "billing": {
            "name": "Jan Muster",
            "street": "Ring 2",
            "zip": "80331",
            "city": "München",
            "country_code": "DE",
        },
        "lines": [
            {"external_id": "1", "sku": "TS-100-BLK-M", "quantity": "1", "unit_price": "24.90"}
        ],
    }
    order.update(changes)
    return order


class FileAdapter:
    """What the generic file import fetches: one page parsed from the file's bytes."""

    def __init__(self, data):
        self.data = data

    def fetch_orders(self, cursor=None):
        yield OrderPage(parse_order_file(self.data, "json"), None, False)


@tagged("post_install", "-at_install")
class TestOrderPush(HttpCase, ShopConnectorCase):
    """Orders pushed by the shop over HTTP, stored like imported ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls._create_sample_products()
        cls.backend = cls._create_backend(
            name="Hofladen",
            backend_type="generic",
            pricelist_id=cls._create_eur_pricelist().id,
            exception_queue_id=cls.queue.id,
        )
        cls.token = cls._token_of(cls.backend)

    @classmethod
    def _token_of(cls, backend):
        backend.action_generate_push_token()
        return backend.push_token

    def _push(self, body, backend=None, token=None, headers=None, backend_id=None):
        backend = backend or self.backend
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"}
        if token is not False:
            all_headers["Authorization"] = f"Bearer {token or self.token}"
        all_headers.update(headers or {})
        self.env.flush_all()
        url = order_push_url(backend_id or backend.id)
        response = self.url_open(url, data=body, headers=all_headers, method="POST")
        self.env.invalidate_all()
        return response

    def _run_cron(self, xmlid):  # HttpCase is in registry test mode already
        self.env.flush_all()
        self.assertIs(self.env.ref(xmlid).method_direct_trigger(), True, "the cron raised")
        self.env.invalidate_all()

    def _sale_orders(self, backend):
        return self.env["sale.order"].search([("shop_backend_id", "=", backend.id)])

    def test_push_stores_the_order_once_and_the_cron_makes_one_sale_order(self):
        response = self._push({"orders": [generic_order()]})
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json(), {"received": 1, "stored": 1, "duplicates": 0})
        imported = self._imports(self.backend)
        self.assertEqual(imported.external_id, "WEB-7")
        self.assertEqual(imported.state, "pending")
        self.assertEqual(json.loads(imported.payload)["billing"]["city"], "München")
        self.assertFalse(imported.sale_order_id, "processing is the cron's job")
        # webhook retried by the shop: acknowledged, nothing new
        response = self._push(generic_order())
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json(), {"received": 1, "stored": 0, "duplicates": 1})
        self.assertEqual(self._imports(self.backend), imported)
        self._process()
        self.assertEqual(imported.state, "done", imported.last_error)
        self.assertEqual(imported.sale_order_id.partner_id.email, "jan@example.de")
        self.assertEqual(imported.sale_order_id.order_line.product_id, self.products[0])

    def test_pushed_then_polled_order_is_one_sale_order(self):
        order = generic_order()
        self.assertEqual(self._push([order]).status_code, 202)
        # the regular import fetches the same order from the shop's order file
        self._import_file(json.dumps({"orders": [order]}).encode())
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self.assertEqual(len(self._imports(self.backend)), 1)
        self._process()
        self.assertEqual(len(self._sale_orders(self.backend)), 1)
        # and pushed again after processing: still one sale order
        response = self._push([order])
        self.assertEqual(response.json()["duplicates"], 1)
        self._process()
        self.assertEqual(len(self._sale_orders(self.backend)), 1)
        self.assertEqual(self._imports(self.backend).state, "done")

    def test_polled_then_pushed_change_updates_the_one_record(self):
        self._import_file(json.dumps(generic_order()).encode())
        imported = self._imports(self.backend)
        self._process()
        self.assertEqual(imported.state, "done", imported.last_error)
        changed = generic_order(status="cancelled", updated_at="2024-07-06T10:00:00Z")
        response = self._push(changed)
        self.assertEqual(response.json(), {"received": 1, "stored": 1, "duplicates": 0})
        self.assertEqual(self._imports(self.backend), imported)
        self.assertEqual(imported.state, "pending", "the change is processed again")
        self.assertEqual(json.loads(imported.payload)["status"], "cancelled")

    def test_order_stored_concurrently_is_retried_and_kept_once(self):
        """Two webhooks of one order at once: the loser's insert hits the unique index;
        the request is then retried as a whole and finds the order stored."""
        imports_class = type(self.env["shop.order.import"])
        store_page = imports_class._store_page
        calls = []

        def store_page_losing_first(imports, backend, page):
            calls.append(page)
            if len(calls) == 1:  # another request inserted the same order first
                raise UniqueViolation("duplicate key value violates unique constraint")
            return store_page(imports, backend, page)

        with patch.object(imports_class, "_store_page", store_page_losing_first):
            response = self._push(generic_order())
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(len(calls), 2, "the request was retried")
        self.assertEqual(len(self._imports(self.backend)), 1)

    def _import_file(self, data):
        self._patch_adapter(FileAdapter(data))
        self.backend.next_sync_date = False
        self._run_cron("shop_connector.ir_cron_import")

    @mute_logger(PUSH_LOGGER)
    def test_wrong_or_missing_token_is_401_and_stores_nothing(self):
        for token, headers in [
            ("not-the-token", None),
            (False, None),
            (False, {"Authorization": f"Basic {self.token}"}),
            (self.token[:-1], None),
        ]:
            response = self._push(generic_order(), token=token, headers=headers)
            self.assertEqual(response.status_code, 401, (token, headers))
            self.assertIn("token", response.json()["error"])
        self.assertFalse(self._imports(self.backend))
        # a regenerated token replaces the old one
        old = self.token
        new = self._token_of(self.backend)
        self.assertNotEqual(new, old)
        self.assertEqual(self._push(generic_order(), token=old).status_code, 401)
        self.assertEqual(self._push(generic_order(), token=new).status_code, 202)

    def test_unknown_inactive_or_closed_backend_is_404(self):
        other = self._create_backend(name="Other", backend_type="generic")
        missing_id = other.id + 1000
        self.assertEqual(self._push(generic_order(), backend_id=missing_id).status_code, 404)
        # no token generated: push is off for this shop, whatever is sent
        self.assertEqual(self._push(generic_order(), backend=other).status_code, 404)
        other_token = self._token_of(other)
        other.action_archive()
        response = self._push(generic_order(), backend=other, token=other_token)
        self.assertEqual(response.status_code, 404)
        other.action_unarchive()
        other.action_disable_push()
        self.assertFalse(other.push_enabled)
        response = self._push(generic_order(), backend=other, token=other_token)
        self.assertEqual(response.status_code, 404)
        # a CSV import stores file rows, not orders: it takes no pushes
        csv_backend = self._create_backend(name="CSV", backend_type="yatego")
        csv_backend.sudo().push_token = "csv-token"
        response = self._push(generic_order(), backend=csv_backend, token="csv-token")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.env["shop.order.import"].search([]))

    @mute_logger(PUSH_LOGGER)
    def test_malformed_or_invalid_orders_are_400_and_nothing_is_stored(self):
        cases = [
            (b"{ not json", "not a JSON document"),
            (b"", "no body"),
            (b"[]", "no order"),
            (b'"WEB-7"', "must hold an order"),
            (json.dumps([generic_order(), "x"]).encode(), "order 2: must be a JSON object"),
            (json.dumps([generic_order(), generic_order(total=None)]).encode(), "missing total"),
            (json.dumps(generic_order(total="viel")).encode(), "total"),
        ]
        for body, message in cases:
            response = self._push(body)
            self.assertEqual(response.status_code, 400, body)
            self.assertIn(message, response.json()["error"])
        self.assertFalse(self._imports(self.backend), "a refused document stores nothing")
        # form-encoded (curl -d without a content type): told to send JSON
        response = self._push(
            b"orders=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("application/json", response.json()["error"])

    def test_body_over_the_limit_is_413_and_stores_nothing(self):
        body = json.dumps(generic_order()).encode()
        with patch.object(order_push, "MAX_PUSH_BYTES", len(body) - 1):
            response = self._push(body)
        self.assertEqual(response.status_code, 413)
        self.assertIn("larger than", response.json()["error"])
        self.assertFalse(self._imports(self.backend))
        with patch.object(order_push, "MAX_PUSH_BYTES", len(body)):
            self.assertEqual(self._push(body).status_code, 202)

    @mute_logger(PUSH_LOGGER)
    def test_signed_shopify_webhook_is_stored_without_the_token(self):
        backend = self._create_shopify_backend(push_webhook_secret="shpss_secret")
        self.assertTrue(backend.push_enabled)
        body = json.dumps(shopify_payload()).encode()
        signed = {
            "X-Shopify-Hmac-Sha256": order_push.webhook_signature(body, "shpss_secret"),
            "X-Shopify-Topic": "orders/create",
        }
        response = self._push(body, backend=backend, token=False, headers=signed)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["stored"], 1)
        imported = self._imports(backend)
        self.assertEqual(imported.external_id, str(shopify_payload()["id"]))
        # a body changed on the way no longer matches its signature
        tampered = json.dumps(shopify_payload(total_price="0.01")).encode()
        response = self._push(tampered, backend=backend, token=False, headers=signed)
        self.assertEqual(response.status_code, 401)
        # a topic without an order is acknowledged and ignored
        other_topic = dict(signed, **{"X-Shopify-Topic": "products/update"})
        response = self._push(body, backend=backend, token=False, headers=other_topic)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._imports(backend), imported)

    def test_woocommerce_ping_when_the_webhook_is_saved_is_answered(self):
        backend = self._create_backend(name="Woo", backend_type="woocommerce")
        backend.push_webhook_secret = "woo-secret"
        response = self._push(
            b"webhook_id=12",
            backend=backend,
            token=False,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self._imports(backend))

    def test_token_is_for_managers_only_and_shown_once_on_generation(self):
        result = self.backend.action_generate_push_token()
        self.assertIn(self.backend.push_token, result["params"]["message"])
        self.assertTrue(result["params"]["sticky"])
        self.assertTrue(
            self.backend.push_url.endswith(f"/shop_connector/push/{self.backend.id}/orders")
        )
        user = new_test_user(self.env, "shop_user", groups="shop_connector.group_user")
        backend = self.backend.with_user(user)
        self.assertTrue(backend.push_enabled)
        with self.assertRaises(AccessError):
            _token = backend.push_token
        with self.assertRaises(AccessError):
            backend.action_generate_push_token()


def order_push_url(backend_id):
    return f"/shop_connector/push/{backend_id}/orders"
