"""Stock updates of a Gambio shop: the real adapter against a local Gambio API v2.

The backend's own ``_get_shop_adapter`` builds the Gambio adapter; it talks to a server
on 127.0.0.1 that answers the documented product search and product update, and fails
on request. Only the adapter's retry waits are shortened (same classes, same code).
"""

import contextlib
import dataclasses
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..adapters.shops.http import HttpPolicy
from .common import ShopConnectorCase

CRON = "shop_connector.ir_cron_run_sync_jobs"
API = "/api.php/v2"


class GambioProductServer:
    """A small Gambio API v2: ``POST /products/search`` and ``PUT /products/{id}``.

    ``products`` maps id to product; ``failures`` is a list of statuses answered (in
    order) to the next product updates instead of storing them.
    """

    def __init__(self, products):
        self.products = products
        self.failures = []
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                server._handle(self)

            def do_PUT(self):
                server._handle(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def _handle(self, request):
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"null")
        self.requests.append((request.command, request.path, body))
        if not request.headers.get("Authorization", "").startswith("Basic "):
            self._send(request, 401, {"code": 401, "message": "Invalid Credentials"})
        elif request.command == "POST" and request.path == f"{API}/products/search":
            model = body["search"]["match"]["products.products_model"]
            found = [
                p for p in self.products.values() if p["productModel"].lower() == model.lower()
            ]
            self._send(request, 200, found)
        elif request.command == "PUT" and request.path.startswith(f"{API}/products/"):
            if self.failures:
                self._send(request, self.failures.pop(0), {"message": "scripted failure"})
                return
            product = self.products[int(request.path.rsplit("/", 1)[1])]
            product.update(body)
            self._send(request, 200, product)
        else:
            self._send(request, 404, {"code": 404, "message": "unknown route"})

    @staticmethod
    def _send(request, status, payload):
        data = json.dumps(payload).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)


@tagged("post_install", "-at_install")
class TestGambioStockPush(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.Job = cls.env["shop.sync.job"]

    def setUp(self):
        super().setUp()
        self.server = GambioProductServer(
            {
                42: {"id": 42, "productModel": "MUG-9", "quantity": 12, "settings": {}},
                43: {"id": 43, "productModel": "mug-9-old", "quantity": 1, "settings": {}},
            }
        )
        self.addCleanup(self.server.stop)
        self.gambio = self._create_backend(
            name="Gambio DE",
            backend_type="gambio",
            api_url=self.server.url,
            api_key="api@shop.de",
            api_secret="geheim",
        )
        Backend = type(self.env["shop.backend"])
        real_get_adapter = Backend._get_shop_adapter
        policy = HttpPolicy(timeout=5, max_retries=1, backoff_base=0.01)

        def quick_adapter(backend):
            adapter = real_get_adapter(backend)
            settings = dataclasses.replace(adapter.settings, policy=policy)
            return type(adapter)(settings, sleep=lambda seconds: None)

        patcher = patch.object(Backend, "_get_shop_adapter", quick_adapter)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _create_storable(self, qty, default_code):
        product = self.env["product.product"].create(
            {"name": "Mug", "type": "consu", "is_storable": True, "default_code": default_code}
        )
        if qty:
            self.env["stock.quant"]._update_available_quantity(
                product, self.warehouse.lot_stock_id, qty
            )
        return product

    def _stock_jobs(self, product):
        return self.Job.search([("kind", "=", "push_stock"), ("product_id", "=", product.id)])

    def _puts(self):
        return [(path, body) for method, path, body in self.server.requests if method == "PUT"]

    def test_threshold_crossed_pushes_the_quantity_to_the_gambio_shop(self):
        product = self._create_storable(3, "MUG-9")
        template = product.product_tmpl_id
        template.write({"shop_stock_threshold": 5, "shop_backend_ids": [(6, 0, self.gambio.ids)]})
        template._shop_check_stock_threshold()
        job = self._stock_jobs(product)
        self.assertEqual(job.backend_id, self.gambio)

        self._run_cron(CRON)
        self.assertEqual(job.state, "done", job.last_error)
        self.assertEqual(self._puts(), [(f"{API}/products/42", {"quantity": 3})])
        self.assertEqual(self.server.products[42]["quantity"], 3)
        self.assertEqual(self.server.products[43]["quantity"], 1, "another article number")

    def test_sold_out_sends_zero(self):
        product = self._create_storable(0, "MUG-9")
        job = self.Job._queue_stock(self.gambio, product, -2)
        self._run_cron(CRON)
        self.assertEqual(job.state, "done", job.last_error)
        self.assertEqual(self.server.products[42]["quantity"], 0)

    def test_server_errors_are_retried_later_then_the_update_arrives(self):
        product = self._create_storable(2, "MUG-9")
        job = self.Job._queue_stock(self.gambio, product, 2)
        self.server.failures = [503, 503]  # the first attempt and the adapter's one retry
        self._run_cron(CRON)
        self.assertEqual(job.state, "error")
        self.assertEqual(job.attempt_count, 1)
        self.assertIn("HTTP 503", job.last_error)
        self.assertGreater(job.next_attempt_date, fields.Datetime.now())
        self.assertEqual(self.server.products[42]["quantity"], 12, "nothing stored yet")

        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):
            self._run_cron(CRON)
        self.assertEqual(job.state, "done")
        self.assertFalse(job.last_error)
        self.assertEqual(self.server.products[42]["quantity"], 2)

    def test_unknown_article_number_needs_a_person_then_retry_succeeds(self):
        product = self._create_storable(1, "CUP-1")
        job = self.Job._queue_stock(self.gambio, product, 1)
        self._run_cron(CRON)
        self.assertEqual(job.state, "failed")
        self.assertIn("0 products with article number 'CUP-1'", job.last_error)
        self.assertTrue(job.activity_ids)
        self.assertFalse(self._puts())

        # the merchant creates the article in the shop and retries
        self.server.products[44] = {"id": 44, "productModel": "CUP-1", "quantity": 9}
        job.action_retry()
        self._run_cron(CRON)
        self.assertEqual(job.state, "done", job.last_error)
        self.assertEqual(self.server.products[44]["quantity"], 1)
