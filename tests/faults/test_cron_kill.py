"""Cron workers killed mid-batch, and two workers on the same work, as real processes.

A scratch database with the four addons is created once for the module. Stored inbound
mails are the work: the inbox's processing cron turns each into a case, one committed
unit of work per mail. Then:

* a real ``odoo shell`` runs the cron (``ir.cron.method_direct_trigger``, so the job runs
  exactly as the scheduler runs it, progress API included); once some mails are done it
  is SIGKILLed, a new process runs the cron again;
* two ``odoo shell`` processes run the same cron code at the same moment on the same
  mails.

After each: every mail done exactly once (counted by Message-ID, the external key), one
case per mail, no message posted twice, nothing left pending, in error or locked.
"""

from __future__ import annotations

import os
import time

import pytest

from .odoo_process import ScratchDatabase, kill_group, odoo_available, wait_until

ODOO_OK, ODOO_REASON = odoo_available()
pytestmark = [pytest.mark.heavy, pytest.mark.skipif(not ODOO_OK, reason=ODOO_REASON)]

MAILS = 200

SEED = """
import base64
from email.message import EmailMessage

env["ir.config_parameter"].set_param("mail.catchall.domain", "shop.test")
queue = env["crm.shop.queue"].create({{"name": "Faults {tag}"}})
mailbox = env["crm.shop.mailbox"].create({{
    "name": "Faults {tag}", "email": "{tag}@shop.test", "host": "127.0.0.1", "port": 9,
    "security": "none", "login": "x", "password": "x", "queue_id": queue.id,
}})
for number in range({count}):
    message = EmailMessage()
    message["From"] = f"Kunde {{number}} <kunde{{number}}@example.de>"
    message["To"] = "{tag}@shop.test"
    message["Subject"] = f"Frage {{number}} zu meiner Bestellung"
    message["Message-ID"] = f"<{tag}-{{number}}@example.de>"
    message.set_content(f"Wo bleibt Bestellung {{number}}? Viele Grüße")
    env["crm.shop.inbound.mail"].create({{
        "mailbox_id": mailbox.id, "folder": "INBOX", "uidvalidity": "1", "uid": number + 1,
        "dedupe_key": f"<{tag}-{{number}}@example.de>",
        "message_id": f"<{tag}-{{number}}@example.de>",
        "subject": message["Subject"], "email_from": f"kunde{{number}}@example.de",
        "raw": base64.b64encode(message.as_bytes()),
    }})
env.cr.commit()
print("MAILBOX", mailbox.id)
"""

# the inbox processing cron, run as the scheduler runs it, until nothing is due
CRON_WORKER = """
cron = env.ref("mail_crm_shop.ir_cron_process_inbound_mail")
Inbound = env["crm.shop.inbound.mail"]
for _run in range(50):
    env.cr.commit()
    if not Inbound.search_count([("state", "=", "pending")]):
        break
    assert cron.method_direct_trigger() is True, "the cron raised"
env.cr.commit()
print("WORKER DONE")
"""

# the cron's code (`model._cron_process`) in a process of its own, started on a signal so
# that two of them run at the same moment; counts the mails it processed itself
TWIN_WORKER = """
import pathlib, time
Inbound = env["crm.shop.inbound.mail"]
processed = []
model_class = type(Inbound)
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
    Inbound._cron_process(batch_size=25)
    env.cr.commit()
    if not Inbound.search_count([("state", "=", "pending")]):
        break
print("PROCESSED", ",".join(map(str, processed)))
"""


@pytest.fixture(scope="module")
def scratch_db():
    prefix = os.environ.get("SHOP_FAULTS_DB_PREFIX", "shop_faults")
    db = ScratchDatabase(f"{prefix}_cron_{os.getpid()}")
    try:
        db.create()
        yield db
    finally:
        db.drop()


def _seed(db, tmp_path, tag, count=MAILS):
    output = db.run_shell(SEED.format(tag=tag, count=count), tmp_path / f"seed-{tag}.log")
    return int(output.split("MAILBOX", 1)[1].split()[0])


def _states(db, mailbox_id):
    rows = db.query(
        "SELECT state, count(*) FROM crm_shop_inbound_mail WHERE mailbox_id = %s GROUP BY state",
        (mailbox_id,),
    )
    return dict(rows)


def _assert_books(db, mailbox_id, tag, done):
    """``done`` mails done, each once with its own case; the others untouched."""
    states = _states(db, mailbox_id)
    assert states.get("done", 0) == done, states
    assert states.get("pending", 0) == MAILS - done, states
    assert set(states) <= {"done", "pending"}, f"no error after a kill or a race: {states}"
    [(mails_done, distinct_keys, distinct_cases, without_case)] = db.query(
        """SELECT count(*), count(DISTINCT message_id), count(DISTINCT case_id),
                  count(*) FILTER (WHERE case_id IS NULL)
             FROM crm_shop_inbound_mail WHERE mailbox_id = %s AND state = 'done'""",
        (mailbox_id,),
    )
    assert (mails_done, distinct_keys, distinct_cases, without_case) == (done, done, done, 0)
    [(cases,)] = db.query("SELECT count(*) FROM crm_shop_case WHERE mailbox_id = %s", (mailbox_id,))
    assert cases == done, "a case exists exactly for every mail done (none doubled, none orphan)"
    doubled = db.query(
        """SELECT message_id, count(*) FROM mail_message
            WHERE model = 'crm.shop.case' AND message_id LIKE %s
            GROUP BY message_id HAVING count(*) > 1""",
        (f"<{tag}-%",),
    )
    assert doubled == [], "no customer message is posted twice"
    [(posted,)] = db.query(
        "SELECT count(DISTINCT message_id) FROM mail_message "
        "WHERE model = 'crm.shop.case' AND message_id LIKE %s",
        (f"<{tag}-%",),
    )
    assert posted == done


def _no_backend_left(db):
    """No other connection to the database is left (a killed worker's is gone, no lock)."""
    return not db.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (db.name,),
    )


def test_cron_worker_killed_mid_batch_then_restarted(scratch_db, tmp_path):
    db = scratch_db
    mailbox_id = _seed(db, tmp_path, "kill")
    assert _states(db, mailbox_id) == {"pending": MAILS}

    worker = db.shell(CRON_WORKER, tmp_path / "worker-1.log")
    try:
        done = wait_until(
            lambda: _states(db, mailbox_id).get("done", 0) >= 10 or worker.poll() is not None,
            timeout=240,
            interval=0.05,
            what="the first mails processed",
        )
        assert done and worker.poll() is None, (
            "the worker ended before it could be killed:\n"
            + (tmp_path / "worker-1.log").read_text(errors="replace")[-3000:]
        )
    finally:
        kill_group(worker)
    assert worker.returncode == -9, "the worker died of SIGKILL, mid-batch"
    wait_until(lambda: _no_backend_left(db), timeout=60, what="the killed worker's session gone")

    done_at_kill = _states(db, mailbox_id).get("done", 0)
    assert 0 < done_at_kill < MAILS, "killed in the middle of the work"
    _assert_books(db, mailbox_id, "kill", done_at_kill)  # the mail in flight rolled back whole

    output = db.run_shell(CRON_WORKER, tmp_path / "worker-2.log")
    assert "WORKER DONE" in output
    _assert_books(db, mailbox_id, "kill", MAILS)
    [(failures,)] = db.query(
        "SELECT failure_count FROM ir_cron WHERE id = ("
        " SELECT res_id FROM ir_model_data"
        " WHERE module = 'mail_crm_shop' AND name = 'ir_cron_process_inbound_mail')"
    )
    assert failures == 0, "the restarted cron completed without a failure"


def test_two_workers_on_the_same_mails_process_each_once(scratch_db, tmp_path):
    db = scratch_db
    mailbox_id = _seed(db, tmp_path, "twin")
    ready = [tmp_path / "ready-a", tmp_path / "ready-b"]
    go = tmp_path / "go"
    workers = [
        db.shell(TWIN_WORKER.format(ready=flag, go=go), tmp_path / f"twin-{i}.log")
        for i, flag in enumerate(ready)
    ]
    try:
        wait_until(
            lambda: (
                all(flag.exists() for flag in ready) or any(w.poll() is not None for w in workers)
            ),
            timeout=240,
            what="both workers loaded",
        )
        go.touch()
        started = time.monotonic()
        for worker in workers:
            worker.wait(max(1.0, 400 - (time.monotonic() - started)))
    finally:
        for worker in workers:
            if worker.poll() is None:
                kill_group(worker)
    outputs = [(tmp_path / f"twin-{i}.log").read_text(errors="replace") for i in range(2)]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0 and "Traceback" not in output, output[-4000:]
    counts = [
        [int(x) for x in output.split("PROCESSED", 1)[1].split()[0].split(",") if x]
        if "PROCESSED " in output and output.split("PROCESSED", 1)[1].split()
        else []
        for output in outputs
    ]
    both = counts[0] + counts[1]
    assert len(both) == len(set(both)) == MAILS, "each mail processed by exactly one worker"
    assert counts[0] and counts[1], "both workers took a share: they really ran at once"
    _assert_books(db, mailbox_id, "twin", MAILS)
