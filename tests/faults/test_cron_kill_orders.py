"""The order cron killed mid-batch; two workers on the same orders or exports; real processes.

A scratch database with ``shop_connector`` and ``shipping_exchange`` is created once for
the module. Stored shop orders are the work: ``shop.order.import._cron_process`` turns
each raw Shopify payload (PayPal, three lines, released at once) into a sale order,
confirms it and creates its delivery, one committed unit of work per order. Then:

* a real ``odoo shell`` runs the cron (``ir.cron.method_direct_trigger``, as the scheduler
  runs it); once some orders are done it is SIGKILLed, and a new process runs it again;
* two ``odoo shell`` processes run the same cron code at the same moment on the same
  orders;
* the deliveries of those orders are routed to a carrier profile that uploads to a real
  FTP server (pyftpdlib, in this process), and two processes run the shipping exchange's
  export cron (``shipping.exchange.record._cron_send``) at the same moment;
* two processes run the cron opening a case per unmatched bank payment
  (``shop.payment.account._cron_open_unmatched_cases``) at the same moment (two workers
  creating a company's default exception queue at once: ``test_cron_payments_rematch``).

After each: every import done exactly once, exactly one sale order per external id, each
order confirmed once (one delivery, one order-received mail), no import left pending, in
error or locked, no sale order without its import; every delivery uploaded exactly once
(one record, one kept file, one upload, no ``.part`` left), none in error; one case per
unmatched payment.
"""

from __future__ import annotations

import json
import os

import pytest
from pyftpdlib.handlers import DTPHandler, FTPHandler

from benchmarks.order_import import SKUS, make_orders
from tests.integration.servers.ftp import _serve as _serve_ftp

from .odoo_process import ScratchDatabase, kill_group, odoo_available, run_at_once, wait_until

ODOO_OK, ODOO_REASON = odoo_available()
pytestmark = [pytest.mark.heavy, pytest.mark.skipif(not ODOO_OK, reason=ODOO_REASON)]

ORDERS = 60
ADDONS = ("shop_connector", "shipping_exchange")

SEED = """
import json
Product = env["product.product"]
stock = env["stock.warehouse"].search([], limit=1).lot_stock_id
env.ref("base.EUR").active = True
for sku in {skus!r}:
    if not Product.search_count([("default_code", "=", sku)]):
        product = Product.create({{
            "name": sku, "default_code": sku, "type": "consu", "is_storable": True,
            "list_price": 11.90,
        }})
        env["stock.quant"]._update_available_quantity(product, stock, 100000)
pricelist = env["product.pricelist"].create({{
    "name": "Shop EUR {tag}", "currency_id": env.ref("base.EUR").id,
}})
backend = env["shop.backend"].create({{
    "name": "Faults {tag}", "backend_type": "shopify",
    "api_url": "http://127.0.0.1:9", "pricelist_id": pricelist.id,
}})
with open({orders!r}, encoding="utf-8") as handle:
    orders = json.load(handle)
for order in orders:
    env["shop.order.import"].create({{
        "backend_id": backend.id, "external_id": str(order["id"]),
        "payload": json.dumps(order, sort_keys=True),
    }})
env.cr.commit()
print("BACKEND", backend.id)
"""

# the order processing cron, run as the scheduler runs it, until nothing is due
CRON_WORKER = """
cron = env.ref("shop_connector.ir_cron_process")
Import = env["shop.order.import"]
for _run in range(50):
    env.cr.commit()
    if not Import.search_count(Import._due_domain()):
        break
    assert cron.method_direct_trigger() is True, "the cron raised"
env.cr.commit()
print("WORKER DONE")
"""

# the cron's code (`model._cron_process`) in a process of its own, started on a signal so
# that two of them run at the same moment; lists the imports it processed itself
TWIN_WORKER = """
import pathlib, time
Import = env["shop.order.import"]
processed = []
model_class = type(Import)
original = model_class._process
def counting(self):
    processed.append(self.id)
    return original(self)
model_class._process = counting
env.cr.commit()
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.02)
for _run in range(50):
    Import._cron_process(batch_size=20)
    env.cr.commit()
    if not Import.search_count(Import._due_domain()):
        break
print("PROCESSED", ",".join(map(str, processed)))
"""


@pytest.fixture(scope="module")
def scratch_db():
    prefix = os.environ.get("SHOP_FAULTS_DB_PREFIX", "shop_faults")
    db = ScratchDatabase(f"{prefix}_orders_{os.getpid()}", addons=ADDONS)
    try:
        db.create()
        yield db
    finally:
        db.drop()


def _seed(db, tmp_path, tag, first_id):
    payloads = tmp_path / f"orders-{tag}.json"
    payloads.write_text(json.dumps(make_orders(first_id, ORDERS)), encoding="utf-8")
    script = SEED.format(tag=tag, skus=list(SKUS), orders=str(payloads))
    output = db.run_shell(script, tmp_path / f"seed-{tag}.log")
    return int(output.split("BACKEND", 1)[1].split()[0])


def _states(db, backend_id):
    rows = db.query(
        "SELECT state, count(*) FROM shop_order_import WHERE backend_id = %s GROUP BY state",
        (backend_id,),
    )
    return dict(rows)


def _errors(db, backend_id):
    return db.query(
        "SELECT external_id, state, last_error FROM shop_order_import"
        " WHERE backend_id = %s AND (state NOT IN ('done', 'pending') OR last_error IS NOT NULL)"
        " ORDER BY id LIMIT 5",
        (backend_id,),
    )


def _assert_books(db, backend_id, done):
    """``done`` imports done, each with its own confirmed sale order; the others untouched."""
    states = _states(db, backend_id)
    assert set(states) <= {"done", "pending"}, (
        f"no error after a kill or a race: {states} {_errors(db, backend_id)}"
    )
    assert states.get("done", 0) == done, states
    assert states.get("pending", 0) == ORDERS - done, states
    [(imports_done, distinct_keys, distinct_sales, without_sale, attempts)] = db.query(
        """SELECT count(*), count(DISTINCT external_id), count(DISTINCT sale_order_id),
                  count(*) FILTER (WHERE sale_order_id IS NULL), coalesce(sum(attempt_count), 0)
             FROM shop_order_import WHERE backend_id = %s AND state = 'done'""",
        (backend_id,),
    )
    assert (imports_done, distinct_keys, distinct_sales, without_sale) == (done, done, done, 0)
    assert attempts == 0, "no import needed a retry"
    [(sales, refs, confirmed, released)] = db.query(
        """SELECT count(*), count(DISTINCT shop_external_ref),
                  count(*) FILTER (WHERE state = 'sale'),
                  count(*) FILTER (WHERE shop_release_state = 'released')
             FROM sale_order WHERE shop_backend_id = %s""",
        (backend_id,),
    )
    assert (sales, refs) == (done, done), "one sale order per external id, none orphan"
    assert (confirmed, released) == (done, done), "every sale order confirmed and released"
    [(orphans,)] = db.query(
        """SELECT count(*) FROM sale_order so
            WHERE so.shop_backend_id = %s AND NOT EXISTS (
                  SELECT 1 FROM shop_order_import i WHERE i.sale_order_id = so.id)""",
        (backend_id,),
    )
    assert orphans == 0, "no sale order without the import that made it"
    deliveries = db.query(
        """SELECT so.id, count(DISTINCT sm.picking_id), count(sm.id)
             FROM sale_order so
             JOIN sale_order_line sol ON sol.order_id = so.id
             LEFT JOIN stock_move sm ON sm.sale_line_id = sol.id
            WHERE so.shop_backend_id = %s AND sol.display_type IS NULL
              AND sol.product_id IN (
                  SELECT id FROM product_product WHERE default_code LIKE 'BENCH-%%')
            GROUP BY so.id""",
        (backend_id,),
    )
    assert len(deliveries) == done
    wrong = [row for row in deliveries if row[1:] != (1, 3)]
    assert wrong == [], "each order confirmed once: one delivery with one move per line"
    mails = db.query(
        """SELECT so.id, count(m.id) FROM sale_order so
             LEFT JOIN mail_message m ON m.model = 'sale.order' AND m.res_id = so.id
                  AND m.message_type = 'notification'
                  AND m.subtype_id = (SELECT res_id FROM ir_model_data
                                       WHERE module = 'mail' AND name = 'mt_comment')
            WHERE so.shop_backend_id = %s GROUP BY so.id HAVING count(m.id) <> 1""",
        (backend_id,),
    )
    assert mails == [], "one order-received mail per order, never two"
    [(unsent,)] = db.query(
        "SELECT count(*) FROM sale_order WHERE shop_backend_id = %s"
        " AND shop_received_mail_sent IS NOT TRUE",
        (backend_id,),
    )
    assert unsent == 0, "the order-received mail of every order is queued"


def _no_backend_left(db):
    """No other connection to the database is left (a killed worker's is gone, no lock)."""
    return not db.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (db.name,),
    )


def _cron_failures(db):
    [(failures,)] = db.query(
        "SELECT failure_count FROM ir_cron WHERE id = ("
        " SELECT res_id FROM ir_model_data"
        " WHERE module = 'shop_connector' AND name = 'ir_cron_process')"
    )
    return failures


def test_order_cron_killed_mid_batch_then_restarted(scratch_db, tmp_path):
    db = scratch_db
    backend_id = _seed(db, tmp_path, "kill", 40_000_000)
    assert _states(db, backend_id) == {"pending": ORDERS}

    worker = db.shell(CRON_WORKER, tmp_path / "worker-1.log")
    try:
        done = wait_until(
            lambda: _states(db, backend_id).get("done", 0) >= 5 or worker.poll() is not None,
            timeout=240,
            interval=0.05,
            what="the first orders processed",
        )
        assert done and worker.poll() is None, (
            "the worker ended before it could be killed:\n"
            + (tmp_path / "worker-1.log").read_text(errors="replace")[-3000:]
        )
    finally:
        kill_group(worker)
    assert worker.returncode == -9, "the worker died of SIGKILL, mid-batch"
    wait_until(lambda: _no_backend_left(db), timeout=60, what="the killed worker's session gone")

    done_at_kill = _states(db, backend_id).get("done", 0)
    assert 0 < done_at_kill < ORDERS, "killed in the middle of the work"
    _assert_books(db, backend_id, done_at_kill)  # the order in flight rolled back whole

    output = db.run_shell(CRON_WORKER, tmp_path / "worker-2.log")
    assert "WORKER DONE" in output
    _assert_books(db, backend_id, ORDERS)
    assert _cron_failures(db) == 0, "the restarted cron completed without a failure"


def test_two_workers_on_the_same_orders_process_each_once(scratch_db, tmp_path):
    db = scratch_db
    backend_id = _seed(db, tmp_path, "twin", 50_000_000)
    counts = _run_twins(db, tmp_path, TWIN_WORKER, "twin")
    assert counts[0] and counts[1], "both workers took a share: they really ran at once"
    both = counts[0] + counts[1]
    assert len(both) == len(set(both)) == ORDERS, "each import processed by exactly one worker"
    _assert_books(db, backend_id, ORDERS)
    # one more run after both: nothing left to do, nothing changes
    output = db.run_shell(CRON_WORKER, tmp_path / "worker-after.log")
    assert "WORKER DONE" in output
    _assert_books(db, backend_id, ORDERS)


# --- shipping exchange: the export cron, two workers at once ---------------------------

EXCHANGE_SETUP = """
profile = env["shipping.exchange.profile"].create({{
    "name": "Faults carrier", "transport": "ftp", "shipper_code": "FAULTS",
    "host": "127.0.0.1", "port": {port}, "login": "{user}", "password": "{password}",
    "remote_dir": "/in", "confirmation_dir": "/out",
}})
env["shipping.exchange.rule"].create({{"name": "Everything", "profile_id": profile.id}})
# the deliveries of this test's orders only, each as the routing cron routes it
orders = env["sale.order"].search([("shop_backend_id", "=", {backend_id})])
for picking in orders.picking_ids:
    picking._shipping_exchange_route()
env.cr.commit()
print("PROFILE", profile.id)
"""

# the export cron's code (`model._cron_send`), started on a signal like TWIN_WORKER
TWIN_SENDER = """
import pathlib, time
Record = env["shipping.exchange.record"]
sent = []
model_class = type(Record)
original = model_class._send
def counting(self):
    sent.append(self.id)
    return original(self)
model_class._send = counting
env.cr.commit()
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.02)
for _run in range(50):
    Record._cron_send(batch_size=10)
    env.cr.commit()
    if not Record.search_count(Record._send_domain()):
        break
print("PROCESSED", ",".join(map(str, sent)))
"""

SEND_AGAIN = """
env["shipping.exchange.record"]._cron_send(batch_size=1000)
env.cr.commit()
print("WORKER DONE")
"""


def _run_twins(db, tmp_path, script, name):
    """Start two workers running ``script`` at the same moment; return what each processed."""
    outputs = run_at_once(
        db, tmp_path, name, [lambda ready, go: script.format(ready=ready, go=go)] * 2
    )
    return [
        [int(x) for x in output.split("PROCESSED", 1)[1].split()[0].split(",") if x]
        if "PROCESSED " in output and output.split("PROCESSED", 1)[1].split()
        else []
        for output in outputs
    ]


def _assert_exchange_books(db, profile_id, server, stored):
    """Every routed delivery sent once: one record, one upload, one file, no error."""
    states = dict(
        db.query(
            "SELECT state, count(*) FROM shipping_exchange_record"
            " WHERE profile_id = %s AND direction = 'out' GROUP BY state",
            (profile_id,),
        )
    )
    errors = db.query(
        "SELECT name, state, last_error FROM shipping_exchange_record"
        " WHERE profile_id = %s AND (state <> 'sent' OR last_error IS NOT NULL) LIMIT 5",
        (profile_id,),
    )
    assert set(states) == {"sent"}, f"every delivery sent, none in error: {states} {errors}"
    [(records, pickings, attempts)] = db.query(
        "SELECT count(*), count(DISTINCT picking_id), coalesce(sum(attempt_count), 0)"
        " FROM shipping_exchange_record WHERE profile_id = %s AND direction = 'out'",
        (profile_id,),
    )
    assert records == pickings == states["sent"]
    assert attempts == 0, "no delivery needed a retry"
    files = db.query(
        """SELECT r.id, a.name FROM shipping_exchange_record r
             JOIN ir_attachment_shipping_exchange_record_rel rel
               ON rel.shipping_exchange_record_id = r.id
             JOIN ir_attachment a ON a.id = rel.ir_attachment_id
            WHERE r.profile_id = %s""",
        (profile_id,),
    )
    assert len(files) == records, "one kept file per delivery, never two"
    names = sorted(name for _record, name in files)
    assert server.files("in") == names, "exactly the kept files arrived, no .part left"
    assert len(stored) == records, "each file uploaded once"
    assert sorted(stored) == sorted(f"{name}.part" for name in names)
    return records


def test_two_workers_on_the_same_exchange_exports_send_each_once(scratch_db, tmp_path):
    db = scratch_db
    backend_id = _seed(db, tmp_path, "ship", 60_000_000)
    db.run_shell(CRON_WORKER, tmp_path / "ship-orders.log")
    _assert_books(db, backend_id, ORDERS)

    stored = []

    def on_file_received(handler, path):
        stored.append(os.path.basename(path))

    stop, thread, server = _serve_ftp(
        tmp_path, FTPHandler, DTPHandler, on_file_received=on_file_received
    )
    try:
        setup = EXCHANGE_SETUP.format(
            port=server.port, user=server.user, password=server.password, backend_id=backend_id
        )
        output = db.run_shell(setup, tmp_path / "ship-setup.log")
        profile_id = int(output.split("PROFILE", 1)[1].split()[0])
        [(due,)] = db.query(
            "SELECT count(*) FROM shipping_exchange_record"
            " WHERE profile_id = %s AND state = 'pending'",
            (profile_id,),
        )
        [(ship_pickings,)] = db.query(
            """SELECT count(DISTINCT sm.picking_id) FROM stock_move sm
                 JOIN sale_order_line sol ON sol.id = sm.sale_line_id
                 JOIN sale_order so ON so.id = sol.order_id
                WHERE so.shop_backend_id = %s""",
            (backend_id,),
        )
        [(held,)] = db.query("SELECT count(*) FROM stock_picking WHERE shipping_exchange_held")
        assert ship_pickings == due == ORDERS and not held, "every delivery routed"

        counts = _run_twins(db, tmp_path, TWIN_SENDER, "send")
        assert counts[0] and counts[1], "both workers took a share: they really ran at once"
        both = counts[0] + counts[1]
        assert len(both) == len(set(both)) == due, "each delivery sent by exactly one worker"
        assert _assert_exchange_books(db, profile_id, server, stored) == due

        # one more run after both: nothing left to send, nothing sent again
        db.run_shell(SEND_AGAIN, tmp_path / "send-again.log")
        assert _assert_exchange_books(db, profile_id, server, stored) == due
    finally:
        stop.set()
        thread.join(5)


# --- payments: the unmatched-payment cron, two workers at once -------------------------

PAYMENTS = 40

PAYMENT_SEED = """
import datetime
from decimal import Decimal
from odoo.addons.shop_connector.services.payments import BankTransaction
journal = env["account.journal"].search(
    [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
)
assert journal, "the company has a bank journal"
account = env["shop.payment.account"].create({{
    "name": "Faults bank", "kind": "bank", "journal_id": journal.id,
    "account_identifier": "DE02500105170137075030", "unmatched_case_days": 7,
}})
booked = datetime.date.today() - datetime.timedelta(days=30)
transactions = [
    BankTransaction(
        key=f"bank:FAULTS:{{n}}", account="DE02500105170137075030", booking_date=booked,
        value_date=None, amount=Decimal("19.90") + n, currency=env.company.currency_id.name,
        counterparty_name=f"Kunde {{n}}", purpose=f"Zahlung {{n}} ohne Bestellnummer",
    )
    for n in range({count})
]
lines, known = account._import_transactions(transactions, "Faults statement")
assert len(lines) == {count} and known == 0
# the company's default exception queue exists already (created on first use: two workers
# creating it at once is test_two_workers_creating_the_default_exception_queue_at_once)
env["crm.shop.queue"]._shop_exception_queue(env.company)
env.cr.commit()
print("ACCOUNT", account.id)
"""

# the cron's code (`model._cron_open_unmatched_cases`), started on a signal like TWIN_WORKER
TWIN_CASES = """
import pathlib, time
Account = env["shop.payment.account"]
Line = env["account.bank.statement.line"]
opened = []
model_class = type(Account)
original = model_class._open_unmatched_case
def counting(self, line):
    opened.append(line.id)
    return original(self, line)
model_class._open_unmatched_case = counting
env.cr.commit()
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.02)
for _run in range(50):
    Account._cron_open_unmatched_cases(batch_size=10)
    env.cr.commit()
    left = [("shop_case_id", "=", False), ("shop_payment_account_id", "!=", False)]
    if not Line.search_count(left):
        break
print("PROCESSED", ",".join(map(str, opened)))
"""

CASES_AGAIN = """
env["shop.payment.account"]._cron_open_unmatched_cases(batch_size=1000)
env.cr.commit()
print("WORKER DONE")
"""


def _assert_payment_books(db, account_id):
    """One case per unmatched payment: none missing, none doubled, none orphan."""
    [(lines, with_case, distinct_cases)] = db.query(
        "SELECT count(*), count(shop_case_id), count(DISTINCT shop_case_id)"
        " FROM account_bank_statement_line WHERE shop_payment_account_id = %s",
        (account_id,),
    )
    assert lines == PAYMENTS
    assert (with_case, distinct_cases) == (PAYMENTS, PAYMENTS), "one case per payment"
    [(cases,)] = db.query(
        "SELECT count(*) FROM crm_shop_case WHERE name::text LIKE %s", ("%Unmatched payment%",)
    )
    assert cases == PAYMENTS, "no case opened twice for a payment, none without its payment"


def test_two_workers_on_the_same_unmatched_payments_open_each_case_once(scratch_db, tmp_path):
    db = scratch_db
    output = db.run_shell(PAYMENT_SEED.format(count=PAYMENTS), tmp_path / "payment-seed.log")
    account_id = int(output.split("ACCOUNT", 1)[1].split()[0])
    counts = _run_twins(db, tmp_path, TWIN_CASES, "cases")
    assert counts[0] and counts[1], "both workers took a share: they really ran at once"
    both = counts[0] + counts[1]
    assert len(both) == len(set(both)) == PAYMENTS, "each payment handled by exactly one worker"
    _assert_payment_books(db, account_id)
    db.run_shell(CASES_AGAIN, tmp_path / "cases-again.log")
    _assert_payment_books(db, account_id)
