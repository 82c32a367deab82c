"""Fault injection against local HTTP servers speaking the Shopify and PayPal APIs.

The backends' real adapters (``_get_shop_adapter`` / ``_get_paypal_adapter``) talk to a
server on 127.0.0.1 that answers 429, 500, hangs past the client timeout, cuts its JSON
short, and repeats the same order or transaction in one page and across pages or
windows. After each fault the books are checked: nothing lost, nothing doubled, the
failure recorded on the backend or account with its reason, and a later run completes.
Only the adapters' timeouts and retry waits are shortened (same classes, same code).
"""

import contextlib
import dataclasses
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import _super_send
from odoo.tools import mute_logger

from ..adapters.paypal import PayPalAdapter
from ..adapters.shops.http import HttpPolicy
from .common import ShopConnectorCase, clean_shopify_payload
from .payment_common import ShopPaymentCase

CLIENT_TIMEOUT = 0.5
HANG = 2.0  # a hanging answer comes after the client gave up
ORDERS_PATH = "/admin/api/2024-07/orders.json"
BACKEND_LOGGER = "odoo.addons.shop_connector.models.shop_backend_fetch"
ACCOUNT_LOGGER = "odoo.addons.shop_connector.models.shop_payment_account_paypal"


class ScriptedServer:
    """A threaded HTTP server on 127.0.0.1: ``routes`` answer, ``faults`` come first.

    ``faults`` is a list of ``(path, kind)``; the first one matching a request's path is
    used up by it: ``hang`` (answer after ``HANG`` seconds), ``truncated`` (the normal
    answer cut in half), an HTTP status such as 429 or 500, or ``(status, Retry-After)``.
    """

    def __init__(self):
        self.routes = {}
        self.faults = []
        self.requests = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server._handle(self)

            def do_POST(self):
                server._handle(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def _take_fault(self, path):
        with self._lock:
            for index, (fault_path, kind) in enumerate(self.faults):
                if fault_path == path:
                    del self.faults[index]
                    return kind
        return None

    def _handle(self, request):
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        self.requests.append((parts.path, query))
        fault = self._take_fault(parts.path)
        if isinstance(fault, int):
            self._send(request, fault, {"Retry-After": "0"}, b'{"errors": "scripted"}')
            return
        if isinstance(fault, tuple):  # (status, Retry-After)
            self._send(request, fault[0], {"Retry-After": fault[1]}, b'{"errors": "scripted"}')
            return
        status, headers, data = self.routes[parts.path](query, body)
        if fault == "hang":
            time.sleep(HANG)
        elif fault == "truncated":
            data = data[: len(data) // 2]
        self._send(request, status, headers, data)

    @staticmethod
    def _send(request, status, headers, data):
        # a client that gave up (timeout) is the point of some faults: ignore its absence
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                request.send_header(key, value)
            request.end_headers()
            request.wfile.write(data)


class KeepClientTimeouts:
    """Odoo's test cases raise every request timeout to 10 s; these tests are about a
    server answering after the adapter's own timeout, so 127.0.0.1 keeps it."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)


# --- Shopify --------------------------------------------------------------------------


def _order(number):
    return clean_shopify_payload(
        id=5531234560000 + number,
        name=f"#{2000 + number}",
        order_number=2000 + number,
        updated_at=f"2024-07-01T10:{number:02d}:00+02:00",
    )


@tagged("post_install", "-at_install")
class TestFaultsShopImport(KeepClientTimeouts, ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls._create_sample_products()

    def setUp(self):
        super().setUp()
        self.server = ScriptedServer()
        self.pages = []
        self.server.routes[ORDERS_PATH] = self._serve_orders
        self.server.start()
        self.addCleanup(self.server.stop)
        self.backend = self._create_shopify_backend(
            api_url=self.server.url, api_secret="shpat_test", import_since_date="2024-07-01"
        )
        Backend = type(self.env["shop.backend"])
        real_get_adapter = Backend._get_shop_adapter
        policy = HttpPolicy(timeout=CLIENT_TIMEOUT, max_retries=1, backoff_base=0.01)

        def quick_adapter(backend):
            adapter = real_get_adapter(backend)
            settings = dataclasses.replace(adapter.settings, policy=policy)
            return type(adapter)(settings, sleep=lambda seconds: None)

        patcher = patch.object(Backend, "_get_shop_adapter", quick_adapter)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _serve_orders(self, query, body):
        number = int(query.get("page_info", "p1")[1:])
        headers = {}
        if number < len(self.pages):
            url = f"{self.server.url}{ORDERS_PATH}?limit=250&page_info=p{number + 1}"
            headers["Link"] = f'<{url}>; rel="next"'
        return 200, headers, json.dumps({"orders": self.pages[number - 1]}).encode()

    @mute_logger(BACKEND_LOGGER)
    def _import(self):
        self.backend.next_sync_date = False
        self._run_cron("shop_connector.ir_cron_import")
        self.env.invalidate_all()

    def _books(self):
        """External id -> (import state, sale order count for it)."""
        imports = self._imports(self.backend)
        self.assertEqual(
            len(imports), len(set(imports.mapped("external_id"))), "an order is stored once"
        )
        orders = self.env["sale.order"].search([("shop_backend_id", "=", self.backend.id)])
        refs = orders.mapped("shop_external_ref")
        return {
            record.external_id: (record.state, refs.count(record.sale_order_id.shop_external_ref))
            for record in imports
        }

    def test_same_order_twice_in_one_page_and_across_pages(self):
        self.pages = [[_order(1), _order(2), _order(1)], [_order(2), _order(3)]]
        self._import()
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self._process()
        expected = {str(5531234560000 + n): ("done", 1) for n in (1, 2, 3)}
        self.assertEqual(self._books(), expected)

        self._import()  # the shop lists the same orders again: nothing new
        self._process()
        self.assertEqual(self._books(), expected)
        self.assertEqual(
            len(self.env["sale.order"].search([("shop_backend_id", "=", self.backend.id)])), 3
        )

    def test_429_500_timeout_and_truncated_json_then_a_later_run_completes(self):
        self.pages = [[_order(1)], [_order(2)], [_order(3)]]
        faults = [
            (429, "429"),
            (500, "500"),
            ("hang", "timed out"),
            ("truncated", "JSON"),
        ]
        for kind, reason in faults:
            # both attempts of the adapter fail on page 2: the run ends in error
            self.server.faults = [(ORDERS_PATH, kind), (ORDERS_PATH, kind)]
            if not self.server.requests:  # first run: page 1 answers normally
                self.server.faults.insert(0, (ORDERS_PATH, None))
            self._import()
            self.assertEqual(self.backend.state, "error", kind)
            self.assertIn(reason, self.backend.last_error, kind)
            stored = self._imports(self.backend)
            self.assertEqual(stored.mapped("external_id"), [str(5531234560001)], kind)
            self.assertIn("p2", self.backend.sync_cursor or "", "the cursor waits at page 2")

        self.server.faults = []
        self._import()
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self.assertFalse(self.backend.last_error)
        self._process()
        self.assertEqual(self._books(), {str(5531234560000 + n): ("done", 1) for n in (1, 2, 3)})

    def test_rate_limited_shop_is_fetched_after_its_wait_and_the_others_go_on(self):
        """A shop answering 429 with ``Retry-After: 7200``: the run neither sleeps nor asks
        again, the shop's next import is not before the two hours, and the next shop of the
        same run is fetched; once the wait is over the orders come in."""
        other_server = ScriptedServer()
        other_server.routes[ORDERS_PATH] = lambda query, body: (
            200,
            {},
            json.dumps({"orders": [_order(9)]}).encode(),
        )
        other_server.start()
        self.addCleanup(other_server.stop)
        other = self._create_shopify_backend(  # after "Shopify DE" in the run's order
            name="Shopify EU", api_url=other_server.url, api_secret="shpat_other"
        )
        self.pages = [[_order(1)]]
        self.server.faults = [(ORDERS_PATH, (429, "7200"))]
        started = fields.Datetime.now()
        self._import()
        self.assertEqual(self.backend.state, "error")
        self.assertIn("asks to wait 7200 s", self.backend.last_error)
        self.assertEqual(len(self.server.requests), 1, "refused once, not asked again")
        wait_over = self.backend.next_sync_date
        self.assertGreaterEqual(wait_over, started + timedelta(hours=2))
        self.assertLess(wait_over, fields.Datetime.now() + timedelta(hours=2, minutes=1))
        self.assertEqual(other.state, "ok", other.last_error)
        self.assertEqual(self._imports(other).mapped("external_id"), [str(5531234560009)])

        self._run_import_cron()  # still waiting: the shop is not asked
        self.assertEqual(len(self.server.requests), 1)
        with freeze_time(wait_over + timedelta(seconds=1)):
            self._run_import_cron()
        self.assertEqual(self.backend.state, "ok", self.backend.last_error)
        self.assertEqual(self._imports(self.backend).mapped("external_id"), [str(5531234560001)])

    @mute_logger(BACKEND_LOGGER)
    def _run_import_cron(self):
        self._run_cron("shop_connector.ir_cron_import")
        self.env.invalidate_all()


# --- PayPal ---------------------------------------------------------------------------

SEARCH_PATH = "/v1/reporting/transactions"
TOKEN_PATH = "/v1/oauth2/token"


def _detail(txn_id, when, value):
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {
        "transaction_info": {
            "paypal_account_id": "6STWC2LSUYYYE",
            "transaction_id": txn_id,
            "transaction_event_code": "T0006",
            "transaction_initiation_date": stamp,
            "transaction_updated_date": stamp,
            "transaction_amount": {"currency_code": "EUR", "value": value},
            "transaction_status": "S",
        },
        "payer_info": {
            "email_address": "kunde@example.com",
            "payer_name": {"given_name": "Erika", "surname": "Mustermann"},
        },
    }


@tagged("post_install", "-at_install")
class TestFaultsPayPalImport(KeepClientTimeouts, ShopPaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paypal_journal = cls.env["account.journal"].create(
            {"name": "PayPal faults", "type": "bank", "code": "PPF"}
        )

    def setUp(self):
        super().setUp()
        self.server = ScriptedServer()
        self.server.routes[TOKEN_PATH] = lambda query, body: (
            200,
            {},
            json.dumps({"access_token": "A21AA-token", "expires_in": 32400}).encode(),
        )
        self.server.routes[SEARCH_PATH] = self._search
        self.server.start()
        self.addCleanup(self.server.stop)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        self.cursor = (now - timedelta(days=40)).replace(tzinfo=None)
        self.account = self._create_payment_account(
            name="PayPal faults",
            kind="paypal",
            journal_id=self.paypal_journal.id,
            account_identifier="paypal-faults",
            paypal_client_id="client",
            paypal_client_secret="secret",
            paypal_api_url=self.server.url,
            paypal_cursor_date=self.cursor,
        )
        # windows: [cursor-3h, cursor+31d-3h] and [cursor+31d-6h, now]; the 3 hours
        # between overlap, so a movement there is listed by both windows
        overlap = now - timedelta(days=40) + timedelta(days=31) - timedelta(hours=4)
        self.details = [
            _detail("1AA00000000000001", now - timedelta(days=20), "10.00"),
            _detail("1AA00000000000001", now - timedelta(days=20), "10.00"),  # twice, one page
            _detail("2BB00000000000002", overlap, "20.00"),  # in both windows
            _detail("3CC00000000000003", now - timedelta(days=1), "30.00"),
        ]
        Account = type(self.env["shop.payment.account"])
        real_get_adapter = Account._get_paypal_adapter

        def quick_adapter(account):
            settings = dataclasses.replace(
                real_get_adapter(account).settings,
                timeout=CLIENT_TIMEOUT,
                max_retries=1,
                backoff=0.01,
                page_size=2,
            )
            return PayPalAdapter(settings, sleep=lambda seconds: None)

        patcher = patch.object(Account, "_get_paypal_adapter", quick_adapter)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _search(self, query, body):
        start = datetime.fromisoformat(query["start_date"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["end_date"].replace("Z", "+00:00"))
        hits = [
            detail
            for detail in self.details
            if start
            <= datetime.strptime(
                detail["transaction_info"]["transaction_initiation_date"], "%Y-%m-%dT%H:%M:%S%z"
            )
            <= end
        ]
        page, size = int(query["page"]), int(query["page_size"])
        answer = {
            "transaction_details": hits[(page - 1) * size : page * size],
            "page": page,
            "total_items": len(hits),
            "total_pages": max(1, -(-len(hits) // size)),
        }
        return 200, {}, json.dumps(answer).encode()

    @mute_logger(ACCOUNT_LOGGER)
    def _run(self):
        with self.enter_registry_test_mode():
            result = self.env.ref("shop_connector.ir_cron_import_paypal").method_direct_trigger()
        self.assertIs(result, True, "the cron raised")
        self.env.invalidate_all()

    def _books(self):
        lines = self.env["account.bank.statement.line"].search(
            [("shop_payment_account_id", "=", self.account.id)]
        )
        keys = lines.mapped("shop_transaction_key")
        self.assertEqual(len(keys), len(set(keys)), "a movement is stored once")
        return {key.split(":")[1]: line.amount for key, line in zip(keys, lines, strict=True)}

    EXPECTED = {"1AA00000000000001": 10.0, "2BB00000000000002": 20.0, "3CC00000000000003": 30.0}

    def test_same_transaction_twice_in_a_page_and_across_windows(self):
        self._run()
        self.assertEqual(self.account.state, "ok", self.account.last_error)
        searched = [q["start_date"] for path, q in self.server.requests if path == SEARCH_PATH]
        self.assertGreater(len(set(searched)), 1, "the import walked more than one window")
        self.assertEqual(self._books(), self.EXPECTED)
        self._run()  # a later run: nothing new
        self.assertEqual(self._books(), self.EXPECTED)

    def test_timeout_is_recorded_and_a_later_run_completes(self):
        self.server.faults = [(SEARCH_PATH, "hang"), (SEARCH_PATH, "hang")]
        self._run()
        self.assertEqual(self.account.state, "error")
        self.assertIn("timed out", self.account.last_error)
        self.assertEqual(self.account.paypal_cursor_date, self.cursor, "the cursor waits")
        self.assertEqual(self._books(), {})
        self._run()
        self.assertEqual(self.account.state, "ok", self.account.last_error)
        self.assertEqual(self._books(), self.EXPECTED)

    def test_second_window_fails_first_one_kept_then_completed_without_doubles(self):
        for kind, reason in ((500, "500"), (429, "429"), ("truncated", "JSON")):
            self.server.faults = [(SEARCH_PATH, None), (SEARCH_PATH, None)]
            if self.account.paypal_cursor_date == self.cursor:  # window 1 is still due
                self.server.faults += [(SEARCH_PATH, kind), (SEARCH_PATH, kind)]
            else:
                self.server.faults = [(SEARCH_PATH, kind), (SEARCH_PATH, kind)]
            self._run()
            self.assertEqual(self.account.state, "error", kind)
            self.assertIn(reason, self.account.last_error, kind)
            self.assertEqual(
                self._books(),
                {"1AA00000000000001": 10.0, "2BB00000000000002": 20.0},
                "the first window is kept whole",
            )
            self.assertGreater(self.account.paypal_cursor_date, self.cursor)
        self.server.faults = []
        self._run()
        self.assertEqual(self.account.state, "ok", self.account.last_error)
        self.assertEqual(self._books(), self.EXPECTED)

    def test_rate_limit_waits_as_paypal_asked_unless_a_person_imports_now(self):
        """PayPal answering 429 with ``Retry-After: 3600``: the run does not wait an hour, the
        account's scheduled imports do not ask again before it; "Import now" does."""
        self.server.faults = [(SEARCH_PATH, (429, "3600"))]
        started = fields.Datetime.now()
        self._run()
        self.assertEqual(self.account.state, "error")
        self.assertIn("429", self.account.last_error)
        wait_until = self.account.paypal_wait_until
        self.assertGreaterEqual(wait_until, started + timedelta(hours=1))
        self.assertLess(wait_until, fields.Datetime.now() + timedelta(hours=1, minutes=1))
        asked = len(self.server.requests)
        self._run()  # scheduled: still waiting, PayPal is not asked
        self.assertEqual(len(self.server.requests), asked)
        self.assertEqual(self._books(), {})

        self.account.action_import_now()  # a person asks: the wait is lifted
        self.assertFalse(self.account.paypal_wait_until)
        self._run()
        self.assertEqual(self.account.state, "ok", self.account.last_error)
        self.assertFalse(self.account.paypal_wait_until)
        self.assertEqual(self._books(), self.EXPECTED)
