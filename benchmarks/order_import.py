#!/usr/bin/env python3
"""Order import rate: shop orders to confirmed sale orders with deliveries, ours vs bare ORM.

A local HTTP server serves N orders (default 1,000, three lines each) in Shopify's
documented REST format (``tests/data/shops/shopify/order.json``, paged by ``Link``
headers). In one scratch Odoo 19 database with ``shop_connector``, two measurements,
one per target of the issue:

**Import and confirm** (the main figure; target 20 orders/s, linear in N):

* **ours**: a Shopify ``shop.backend`` fetches the orders with the real adapter
  (``shop.backend._cron_import``: raw payloads stored, cursor committed per page), then
  ``shop.order.import._cron_process`` turns them into quotations (customer found or
  created, products by SKU, checks) and the release rule (PayPal: released at once)
  confirms them: deliveries created and reserved, order-received mail rendered and
  queued inside each order's unit (the mail queue's cron is triggered once per batch,
  sending is not measured); one committed unit per order, the lookups the orders of a
  batch share (products, taxes) resolved once per batch. Orders/s from the first
  request to the last delivery.
* **peer**: the same orders, already decoded, as a bare ORM ``sale.order.create`` with
  the same customers and products, followed by ``action_confirm()``, in one transaction.

**Import to quotations** (the import's own overhead; target at most 1.5x the time per
order of the bare create):

* **ours to quotations**: the same kind of orders paid by bank transfer, through the same
  adapter and ``_cron_process``; the release rule keeps them as quotations waiting for
  the payment (no confirmation, no delivery). Ours still renders and queues the
  order-received mail in each order's unit (and stores the raw payload, checks,
  commits per order); the bare create does none of that, so the ratio includes it.
* **peer create**: the same orders as a bare ``sale.order.create`` without
  ``action_confirm()``, same customers and products, in one transaction.

Also printed: the import's own overhead against create+confirm (in % of the peer's time),
against the bare create (ours' time per order / the peer's: ``create_overhead_x``), and
linearity (ours at a quarter of the size against ours at the full size).
Figure ``order_import``, orders/s, higher is better; the target is 20 orders/s for ours
(the JSON line's ``ratio`` is ours/peer of import-and-confirm as everywhere;
``target_orders_per_s`` is the absolute target; ``quotations_per_s`` and
``peer_create_per_s`` are the quotation run's rates). Needs Odoo 19 and PostgreSQL (see
``scripts/backoffice.py``).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from backoffice import drop_database, odoo_command, odoo_status  # noqa: E402

from benchmarks.harness import Result, parse_args, report, stopwatch  # noqa: E402

DB = os.environ.get("BENCH_DB", "bench_order_import")  # another name: parallel runs
SAMPLE = ROOT / "tests" / "data" / "shops" / "shopify" / "order.json"
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
SKUS = [f"BENCH-{n:02d}" for n in range(30)]
CUSTOMERS = 200
TARGET = 20.0
CREATE_OVERHEAD_TARGET = 1.5  # the import's own overhead: at most 1.5x the bare create
PAGE = 250


def make_orders(first_id: int, count: int, gateway: str = "paypal") -> list[dict]:
    """``count`` clean Shopify orders (three lines, 19 % VAT included) paid by ``gateway``.

    ``paypal`` is paid at once (the release rule confirms the order); ``bank_transfer``
    is still to be paid (the order stays a quotation waiting for the payment).
    """
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    financial_status = "paid" if gateway == "paypal" else "pending"
    template_line = sample["line_items"][0]
    orders = []
    for n in range(count):
        index = first_id + n
        order = copy.deepcopy(sample)
        customer = index % CUSTOMERS
        # a customer's next order (every CUSTOMERS orders) has other articles: the same
        # customer with the same items within a day is held as a possible duplicate
        shift = index + (index // CUSTOMERS) * 11
        email = f"kunde{customer}@example.com"
        stamp = (START + timedelta(seconds=index)).isoformat()
        lines = []
        for k in range(3):
            line = copy.deepcopy(template_line)
            line.update(
                id=index * 10 + k,
                sku=SKUS[(shift + k * 7) % len(SKUS)],
                name=f"Artikel {k}",
                title=f"Artikel {k}",
                quantity=1,
                price="11.90",
                fulfillable_quantity=1,
                tax_lines=[{"price": "1.90", "rate": 0.19, "title": "MwSt"}],
                discount_allocations=[],
            )
            lines.append(line)
        address = dict(sample["billing_address"], first_name="Kunde", last_name=str(customer))
        address["name"] = f"Kunde {customer}"
        order.update(
            id=index,
            admin_graphql_api_id=f"gid://shopify/Order/{index}",
            name=f"#{index}",
            order_number=index,
            email=email,
            created_at=stamp,
            updated_at=stamp,
            processed_at=stamp,
            note="",
            payment_gateway_names=[gateway],
            financial_status=financial_status,
            total_price="40.60",
            subtotal_price="35.70",
            total_line_items_price="35.70",
            total_discounts="0.00",
            total_tax="6.48",
            discount_codes=[],
            line_items=lines,
            billing_address=address,
            shipping_address=address,
            customer=dict(sample["customer"], id=customer + 1, email=email),
        )
        orders.append(order)
    return orders


class ShopifyServer:
    """``GET /admin/api/2024-07/orders.json`` over ``orders``, pages of 250 by page_info."""

    def __init__(self, orders: list[dict]):
        self.orders = orders
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                query = parse_qs(urlsplit(self.path).query)
                start = int(query.get("page_info", ["0"])[0])
                page = server.orders[start : start + PAGE]
                body = json.dumps({"orders": page}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if start + PAGE < len(server.orders):
                    url = f"{server.url}/admin/api/2024-07/orders.json"
                    link = f'<{url}?limit={PAGE}&page_info={start + PAGE}>; rel="next"'
                    self.send_header("Link", link)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def open_registry():
    import odoo  # noqa: F401
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(odoo_command("-d", DB)[3:], setup_logging=False)
    return Registry(DB)


def prepare(registry) -> None:
    """Products with plenty of stock, so every delivery is reserved."""
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        env.ref("base.EUR").active = True
        env["product.pricelist"].create({"name": "Shop EUR", "currency_id": env.ref("base.EUR").id})
        stock = env["stock.warehouse"].search([], limit=1).lot_stock_id
        for sku in SKUS:
            product = env["product.product"].create(
                {
                    "name": sku,
                    "default_code": sku,
                    "type": "consu",
                    "is_storable": True,
                    "list_price": 11.90,
                }
            )
            env["stock.quant"]._update_available_quantity(product, stock, 100_000)


def measure_ours(registry, orders: list[dict], name: str, confirm: bool = True) -> float:
    """Orders/s of the real import; ``confirm``: the orders must end confirmed with
    deliveries (paid at once), otherwise quotations waiting for payment (bank transfer)."""
    from odoo import api

    with ShopifyServer(orders) as server:
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            backend = env["shop.backend"].create(
                {
                    "name": name,
                    "backend_type": "shopify",
                    "api_url": server.url,
                    "api_secret": "bench-token",
                    "import_since_date": START.date() - timedelta(days=1),
                    "pricelist_id": env["product.pricelist"]
                    .search([("name", "=", "Shop EUR")], limit=1)
                    .id,
                }
            )
            backend_id = backend.id
        with stopwatch() as elapsed:
            with registry.cursor() as cr:
                env = api.Environment(cr, 1, {})
                env["shop.backend"].browse(backend_id)._import_orders()
            while True:
                with registry.cursor() as cr:
                    env = api.Environment(cr, 1, {})
                    Import = env["shop.order.import"]
                    due = Import.search_count(
                        [("backend_id", "=", backend_id), ("state", "=", "pending")]
                    )
                    if not due:
                        break
                    Import._cron_process(batch_size=PAGE)
        seconds = elapsed()
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        sale = env["sale.order"].search([("shop_backend_id", "=", backend_id)])
        if confirm:
            finished = sale.filtered(lambda o: o.state == "sale" and o.picking_ids)
            outcome = "confirmed with deliveries"
        else:
            finished = sale.filtered(
                lambda o: (
                    o.state == "draft"
                    and o.shop_release_state == "waiting_payment"
                    and not o.picking_ids
                )
            )
            outcome = "quotations waiting for payment"
        summary = dict(
            env["shop.order.import"]._read_group(
                [("backend_id", "=", backend_id)], ["state"], ["__count"]
            )
        )
        failed = env["shop.order.import"].search(
            [("backend_id", "=", backend_id), ("state", "!=", "done")], limit=1
        )
        cases = env["crm.shop.case"].search([("sale_order_id", "in", sale.ids)], limit=3)
        holds = cases.mapped("name") + failed.mapped("last_error")
    print(
        f"ours ({name}): {len(orders)} orders in {seconds:.1f} s, {server.requests} requests, "
        f"imports {summary}, {len(finished)} {outcome}"
    )
    assert len(finished) == len(orders), f"{len(finished)} of {len(orders)} {outcome}: {holds}"
    return len(orders) / seconds


def measure_peer(registry, orders: list[dict], confirm: bool = True) -> float:
    """Orders/s of a bare ``sale.order.create`` (then ``action_confirm()`` if ``confirm``)."""
    from odoo import Command, api

    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        products = {p.default_code: p.id for p in env["product.product"].search([])}
        with stopwatch() as elapsed:
            partners = {}
            created = env["sale.order"]
            for order in orders:
                email = order["email"]
                if email not in partners:
                    partner = env["res.partner"].search([("email", "=", email)], limit=1)
                    partners[email] = (
                        partner.id
                        or env["res.partner"]
                        .create({"name": order["billing_address"]["name"], "email": email})
                        .id
                    )
                vals = {
                    "partner_id": partners[email],
                    "client_order_ref": order["name"],
                    "order_line": [
                        Command.create(
                            {
                                "product_id": products[line["sku"]],
                                "product_uom_qty": line["quantity"],
                                "price_unit": float(line["price"]),
                            }
                        )
                        for line in order["line_items"]
                    ],
                }
                sale = env["sale.order"].create(vals)
                if confirm:
                    sale.action_confirm()
                created |= sale
            env.flush_all()
            seconds = elapsed()
        if confirm:
            assert all(o.picking_ids for o in created), "peer: a delivery is missing"
        else:
            assert all(o.state == "draft" for o in created), "peer: an order is not a quotation"
    done = "created and confirmed" if confirm else "created (quotations)"
    print(f"peer: {len(orders)} orders {done} in {seconds:.1f} s")
    return len(orders) / seconds


def main() -> int:
    args = parse_args(1000, __doc__)
    ok, reason = odoo_status()
    if not ok:
        print(reason)
        return 2
    keep = os.environ.get("BENCH_KEEP_DB")  # reuse an installed scratch db (development)
    if not keep:
        drop_database(DB)
    subprocess.run(
        odoo_command(
            "-d",
            DB,
            "-i",
            "shop_connector",
            "--stop-after-init",
            "--http-interface",
            "127.0.0.1",
            "--log-level",
            "warn",
        ),
        check=True,
        cwd="/",
    )
    try:
        registry = open_registry()
        prepare(registry)
        quarter = max(args.size // 4, 1)
        small = measure_ours(registry, make_orders(10_000_000, quarter), "Shopify small")
        ours = measure_ours(registry, make_orders(20_000_000, args.size), "Shopify")
        peer = measure_peer(registry, make_orders(30_000_000, args.size))
        quotations = measure_ours(
            registry,
            make_orders(40_000_000, args.size, "bank_transfer"),
            "Shopify bank transfer",
            confirm=False,
        )
        peer_create = measure_peer(
            registry, make_orders(50_000_000, args.size, "bank_transfer"), confirm=False
        )
    finally:
        if not keep:
            drop_database(DB)
    overhead = (peer / ours - 1) * 100
    print(
        f"import overhead vs bare create+confirm: {overhead:.0f} % more time per order; "
        f"linearity: {small:.1f} orders/s at {quarter}, {ours:.1f} orders/s at {args.size} "
        f"({ours / small:.2f}); target {TARGET} orders/s: "
        f"{'met' if ours >= TARGET else 'MISSED'}"
    )
    create_overhead = peer_create / quotations  # ours' time per order / the peer's
    print(
        f"import overhead vs bare create (to quotations): {create_overhead:.2f}x the time "
        f"per order (target <= {CREATE_OVERHEAD_TARGET}x): "
        f"{'met' if create_overhead <= CREATE_OVERHEAD_TARGET else 'MISSED'}"
    )
    report(
        Result(
            "order_import",
            "orders/s",
            ours,
            peer,
            target=TARGET,
            size=args.size,
            extra={
                "target_orders_per_s": TARGET,
                "overhead_pct": round(overhead, 1),
                "orders_per_s_quarter": round(small, 3),
                "linearity": round(ours / small, 3),
                "create_overhead_x": round(create_overhead, 3),
                "quotations_per_s": round(quotations, 3),
                "peer_create_per_s": round(peer_create, 3),
            },
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
