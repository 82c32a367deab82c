"""Two workers matching open payments again at once; two creating a deleted default queue.

A scratch database with ``shop_connector`` is created once for the module. Then, in real
``odoo shell`` processes started at the same moment:

* two run ``shop.payment.account._cron_rematch_open_payments`` on bank payments imported
  before their prepayment orders existed (some orders paid twice by mistake): every order
  is confirmed by exactly one payment, no payment is confirmed twice, the second payment
  of an order stays open for a person;
* two need a company's default exception queue after it was deleted (the fallback that
  creates it lazily): one queue, both get it (the loser of the race retries).
"""

from __future__ import annotations

import os

import pytest

from .odoo_process import ScratchDatabase, odoo_available, run_at_once

ODOO_OK, ODOO_REASON = odoo_available()
pytestmark = [pytest.mark.heavy, pytest.mark.skipif(not ODOO_OK, reason=ODOO_REASON)]

ORDERS = 40
PAID_TWICE = 6  # the first orders get a second, identical payment

SEED = """
import datetime
from decimal import Decimal
from odoo import Command
from odoo.addons.shop_connector.services.payments import BankTransaction
company = env.company
journal = env["account.journal"].search(
    [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
)
assert journal, "the company has a bank journal"
account = env["shop.payment.account"].create({{
    "name": "Rematch bank", "kind": "bank", "journal_id": journal.id,
    "account_identifier": "DE02500105170137075030", "auto_confirm": True,
    "auto_confirm_threshold": 80, "unmatched_case_days": 0,
}})
product = env["product.product"].create({{
    "name": "Rematch rose", "type": "consu", "list_price": 1.0, "invoice_policy": "order",
    "taxes_id": [Command.clear()],
}})
today = datetime.date.today()
currency = company.currency_id.name
def payment(n, copy=""):
    return BankTransaction(
        key=f"bank:REMATCH:{{n}}{{copy}}", account="DE02500105170137075030",
        booking_date=today, value_date=None, amount=Decimal(20 + n), currency=currency,
        counterparty_name=f"Kundin {{n}} Beispiel",
        purpose=f"Bestellung 7100{{n:02d}}  Kundin {{n}} Beispiel",
    )
transactions = [payment(n) for n in range({orders})]
transactions += [payment(n, ":again") for n in range({twice})]
# imported (and matched) before the orders exist: nothing to match yet
lines, known = account._import_transactions(transactions, "Rematch statement")
lines._shop_match()
assert not lines.shop_match_ids, "no order yet"
for n in range({orders}):
    partner = env["res.partner"].create({{"name": f"Kundin {{n}} Beispiel"}})
    order = env["sale.order"].create({{
        "partner_id": partner.id, "shop_external_ref": f"7100{{n:02d}}",
        "shop_payment_method": "prepayment",
        "order_line": [Command.create({{
            "product_id": product.id, "product_uom_qty": 1, "price_unit": 20 + n,
        }})],
    }})
    order.shop_release_state = "waiting_payment"
env.cr.commit()
print("ACCOUNT", account.id)
"""

TWIN_REMATCH = """
import pathlib, time
Account = env["shop.payment.account"]
Match = env["shop.payment.match"]
confirmed = []
model_class = type(Match)
original = model_class._auto_confirm
def counting(self):
    result = original(self)
    if self.state == "auto_confirmed":
        confirmed.append(self.statement_line_id.id)
    return result
model_class._auto_confirm = counting
env.cr.commit()
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.02)
for _run in range(3):
    Account._cron_rematch_open_payments(batch_size=4)
    env.cr.commit()
print("PROCESSED", ",".join(map(str, confirmed)))
"""

# a company whose default exception queue was deleted: the lazy fallback creates it
RACE_SEED = """
company = env["res.company"].create({"name": "Rematch Wettlauf GmbH"})
Queue = env["crm.shop.queue"]
queue = Queue._shop_find_default_exception_queue(company)
assert queue, "created with the company"
queue.unlink()
env.cr.commit()
print("COMPANY", company.id)
"""

# both workers reach the creation at the same moment (the barrier holds the first one
# until the other is there, or is blocked behind it); the loser retries its transaction
RACE_WORKER = """
import pathlib, time
from odoo.exceptions import ConcurrencyError
Queue = env["crm.shop.queue"]
model_class = type(Queue)
original = model_class._shop_create_default_exception_queue
def at_the_barrier(self, company):
    queue = original(self, company)
    pathlib.Path("{mine}").touch()
    deadline = time.monotonic() + 5
    while not pathlib.Path("{other}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return queue
model_class._shop_create_default_exception_queue = at_the_barrier
env.cr.commit()
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.02)
company = env["res.company"].browse({company})
try:
    queue = Queue._shop_exception_queue(company)
    env.cr.commit()
except ConcurrencyError:
    env.cr.rollback()
    print("RETRIED")
    queue = Queue._shop_exception_queue(company)
    env.cr.commit()
print("PROCESSED", queue.id)
"""


@pytest.fixture(scope="module")
def scratch_db():
    prefix = os.environ.get("SHOP_FAULTS_DB_PREFIX", "shop_faults")
    db = ScratchDatabase(f"{prefix}_rematch_{os.getpid()}", addons=("shop_connector",))
    try:
        db.create()
        yield db
    finally:
        db.drop()


def _run_pair(db, tmp_path, scripts, name):
    """Start two ``odoo shell`` workers, release them at once; return their outputs."""
    outputs = run_at_once(
        db,
        tmp_path,
        name,
        [
            lambda ready, go, text=text: text.replace("{ready}", str(ready)).replace(
                "{go}", str(go)
            )
            for text in scripts
        ],
    )
    for output in outputs:
        assert "PROCESSED" in output, output[-4000:]
    return outputs


def _processed(output):
    return [int(x) for x in output.split("PROCESSED", 1)[1].split()[0].split(",") if x]


def test_two_workers_matching_again_confirm_each_order_once(scratch_db, tmp_path):
    db = scratch_db
    seed = SEED.format(orders=ORDERS, twice=PAID_TWICE)
    output = db.run_shell(seed, tmp_path / "rematch-seed.log")
    account_id = int(output.split("ACCOUNT", 1)[1].split()[0])
    outputs = _run_pair(db, tmp_path, [TWIN_REMATCH, TWIN_REMATCH], "rematch")
    counts = [_processed(output) for output in outputs]
    assert counts[0] and counts[1], "both workers took a share: they really ran at once"
    both = counts[0] + counts[1]
    assert len(both) == len(set(both)) == ORDERS, "each order confirmed by one worker once"

    per_order = db.query(
        """SELECT so.shop_external_ref, so.shop_release_state, so.state,
                  count(m.id) FILTER (WHERE m.state IN ('confirmed', 'auto_confirmed'))
             FROM sale_order so
             LEFT JOIN shop_payment_match m ON m.sale_order_id = so.id
            WHERE so.shop_external_ref LIKE '7100%%'
            GROUP BY so.id""",
    )
    assert len(per_order) == ORDERS
    wrong = [row for row in per_order if row[1:] != ("released", "sale", 1)]
    assert wrong == [], "every order paid, released and confirmed exactly once"
    [(lines, reconciled, confirmed_lines, doubled)] = db.query(
        """SELECT count(*), count(*) FILTER (WHERE l.is_reconciled),
                  count(*) FILTER (WHERE EXISTS (
                      SELECT 1 FROM shop_payment_match m WHERE m.statement_line_id = l.id
                         AND m.state IN ('confirmed', 'auto_confirmed'))),
                  count(*) FILTER (WHERE (
                      SELECT count(*) FROM shop_payment_match m WHERE m.statement_line_id = l.id
                         AND m.state IN ('confirmed', 'auto_confirmed')) > 1)
             FROM account_bank_statement_line l WHERE l.shop_payment_account_id = %s""",
        (account_id,),
    )
    assert lines == ORDERS + PAID_TWICE
    assert (reconciled, confirmed_lines, doubled) == (ORDERS, ORDERS, 0)
    [(invoices,)] = db.query(
        """SELECT count(DISTINCT am.id) FROM account_move am
             JOIN account_move_line aml ON aml.move_id = am.id
             JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = aml.id
             JOIN sale_order_line sol ON sol.id = rel.order_line_id
             JOIN sale_order so ON so.id = sol.order_id
            WHERE so.shop_external_ref LIKE '7100%%' AND am.state = 'posted'""",
    )
    assert invoices == ORDERS, "one invoice per order, never two"


def test_two_workers_creating_a_deleted_default_queue_get_one_queue(scratch_db, tmp_path):
    db = scratch_db
    output = db.run_shell(RACE_SEED, tmp_path / "race-seed.log")
    company_id = int(output.split("COMPANY", 1)[1].split()[0])
    flags = [tmp_path / "race-created-0", tmp_path / "race-created-1"]
    script = RACE_WORKER.replace("{company}", str(company_id))
    scripts = [
        script.replace("{mine}", str(flags[i])).replace("{other}", str(flags[1 - i]))
        for i in range(2)
    ]
    outputs = _run_pair(db, tmp_path, scripts, "race")
    queues = {_processed(output)[0] for output in outputs}
    assert len(queues) == 1, "both workers got the same default queue"
    [(count,)] = db.query(
        "SELECT count(*) FROM crm_shop_queue WHERE company_id = %s", (company_id,)
    )
    assert count == 1, "one default exception queue for the company"
    [(registered,)] = db.query(
        "SELECT res_id FROM ir_model_data WHERE module = 'mail_crm_shop' AND name = %s",
        (f"crm_shop_queue_exceptions_company_{company_id}",),
    )
    assert registered in queues
