#!/usr/bin/env python3
"""Mail sync rate: our team inbox against Odoo's own fetchmail, same mailbox, same run.

A real dovecot on 127.0.0.1 holds the same generated mailbox (default 2,000 realistic
mails: plain German/English text, HTML alternatives, PDF attachments) twice, once per
IMAP user. In one scratch Odoo 19 database with ``mail_crm_shop`` (and so ``crm``):

* **ours**: a ``crm.shop.mailbox`` synced by ``_cron_sync`` (ingest raw mails, commit,
  flag seen) and processed into cases by ``crm.shop.inbound.mail._cron_process``, until
  nothing is left; mails/s over both steps. The full-text index of the new cases is
  written afterwards by ``crm.shop.search.document._cron_index``: its catch-up time is
  reported separately (``index_catch_up_s``; fetchmail builds no such index);
* **peer**: an incoming mail server (``fetchmail.server``, IMAP) creating CRM leads, the
  stock way (``_fetch_mail``), until the mailbox has no unseen mail; mails/s.

Also reported: a re-sync of the unchanged mailbox, extrapolated to 10,000 mails (the
target is well under a second). Needs Odoo 19 and Debian's dovecot.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from backoffice import drop_database, odoo_command, odoo_status  # noqa: E402

from benchmarks.harness import Result, parse_args, report  # noqa: E402
from tests.integration.servers.imap import DovecotServer, _free_port  # noqa: E402

DB = os.environ.get("BENCH_DB", "bench_mail_ingest")  # a free scratch database name
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
WORDS = [
    "Bestellung",
    "Lieferung",
    "Rechnung",
    "Paket",
    "Sendungsnummer",
    "Rücksendung",
    "Umtausch",
    "Größe",
    "Farbe",
    "bitte",
    "danke",
    "leider",
    "heute",
    "morgen",
    "order",
    "delivery",
    "invoice",
    "parcel",
    "tracking",
    "refund",
    "exchange",
    "size",
    "colour",
    "please",
    "thanks",
    "unfortunately",
    "today",
    "tomorrow",
]


def generate_mail(index: int, rng: random.Random, domain: str = "example.com") -> bytes:
    """One realistic customer mail; every fifth carries a small PDF attachment."""
    msg = EmailMessage()
    msg["From"] = f"Kunde {index} <kunde{index % 400}@example.com>"
    msg["To"] = "service@shop.example"
    msg["Subject"] = f"Frage zu Bestellung {100000 + index}: {rng.choice(WORDS)}"
    msg["Date"] = format_datetime(START + timedelta(minutes=index))
    msg["Message-ID"] = make_msgid(f"b{index}", domain)
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 200)))
    msg.set_content(f"Guten Tag,\n\n{body}\n\nViele Grüße\nKunde {index}\n")
    msg.add_alternative(f"<p>Guten Tag,</p><p>{body}</p><p>Viele Grüße</p>", subtype="html")
    if index % 5 == 0:
        msg.add_attachment(
            b"%PDF-1.4\n" + rng.randbytes(2048),
            maintype="application",
            subtype="pdf",
            filename=f"rechnung-{index}.pdf",
        )
    return msg.as_bytes()


def fill_mailboxes(server: DovecotServer, size: int) -> None:
    for user in ("shop", "peer"):
        # the same mails for both, but with their own Message-IDs: Odoo's gateway ignores
        # a Message-ID it already has, and both runs share one database
        rng = random.Random(42)
        mails = [generate_mail(i, rng, domain=f"{user}.example.com") for i in range(size)]
        conn = server.client(user)
        try:
            for raw in mails:
                typ, data = conn.append("INBOX", None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()


def open_registry():
    import odoo  # noqa: F401
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(odoo_command("-d", DB)[3:], setup_logging=False)
    return Registry(DB)


def measure_ours(registry, server: DovecotServer, size: int) -> tuple[float, float]:
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        queue = env["crm.shop.queue"].create({"name": "Benchmark"})
        mailbox = env["crm.shop.mailbox"].create(
            {
                "name": "bench",
                "email": "service@shop.example",
                "host": server.host,
                "port": server.port,
                "security": "none",
                "login": "shop",
                "password": server.users["shop"],
                "queue_id": queue.id,
            }
        )
        mailbox_id = mailbox.id
    start = time.perf_counter()
    while True:
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            before = env["crm.shop.inbound.mail"].search_count([])
            env["crm.shop.mailbox"].browse(mailbox_id)._cron_sync(batch_size=size)
            if env["crm.shop.inbound.mail"].search_count([]) == before:
                break
    synced = time.perf_counter() - start
    while True:
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            pending = env["crm.shop.inbound.mail"].search_count([("state", "=", "pending")])
            if not pending:
                break
            env["crm.shop.inbound.mail"]._cron_process(batch_size=size)
    elapsed = time.perf_counter() - start
    # the full-text index is written off the hot path: time how long it takes to catch up
    index_start = time.perf_counter()
    while True:
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            if not env["crm.shop.search.pending"].search_count([]):
                break
            env["crm.shop.search.document"]._cron_index(batch_size=500)
    index = time.perf_counter() - index_start
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        stored = env["crm.shop.inbound.mail"].search_count([])
        cases = env["crm.shop.case"].search_count([("queue_id.name", "=", "Benchmark")])
        assert stored == size, f"stored {stored} of {size} mails"
        assert cases > 0, "no case created"
        resync_start = time.perf_counter()
        env["crm.shop.mailbox"].browse(mailbox_id)._cron_sync(batch_size=size)
        resync = time.perf_counter() - resync_start
        assert env["crm.shop.inbound.mail"].search_count([]) == size, "re-sync duplicated"
        found = env["crm.shop.case"].search_count([("fulltext", "ilike", "Sendungsnummer")])
        assert found > 0, "indexed mails are not found"
    print(
        f"ours: {size} mails stored, {cases} cases, {elapsed:.1f} s "
        f"(storing {synced:.1f} s, cases {elapsed - synced:.1f} s); "
        f"search index caught up {index:.1f} s later; "
        f"re-sync of the unchanged mailbox {resync * 1000:.0f} ms"
    )
    return size / elapsed, resync, index


def measure_peer(registry, server: DovecotServer, size: int) -> float:
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        fetchmail = env["fetchmail.server"].create(
            {
                "name": "bench",
                "server_type": "imap",
                "server": server.host,
                "port": server.port,
                "is_ssl": False,
                "user": "peer",
                "password": server.users["peer"],
                "object_id": env["ir.model"]._get_id("crm.lead"),
            }
        )
        fetchmail.state = "done"
        fetchmail_id = fetchmail.id
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        error = env["fetchmail.server"].browse(fetchmail_id)._fetch_mail(batch_limit=size)
        assert error is None, error
    elapsed = time.perf_counter() - start
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        leads = env["crm.lead"].search_count([])
    print(f"peer: fetchmail created {leads} leads in {elapsed:.1f} s")
    assert leads >= size * 0.95, f"fetchmail created only {leads} leads"
    return size / elapsed


def main() -> int:
    args = parse_args(2000, __doc__)
    ok, reason = odoo_status()
    if not ok:
        print(reason)
        return 2

    drop_database(DB)
    subprocess.run(
        odoo_command(
            "-d",
            DB,
            "-i",
            "mail_crm_shop",
            "--stop-after-init",
            "--http-interface",
            "127.0.0.1",
            "--log-level",
            "warn",
        ),
        check=True,
        cwd="/",
    )
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    root.chmod(0o755)  # dovecot's mail processes run as the dovecot user
    server = DovecotServer(root, _free_port(), users={"shop": "secret", "peer": "secret"})
    server.setup()
    server.start()
    try:
        fill_mailboxes(server, args.size)
        registry = open_registry()
        ours, resync, index = measure_ours(registry, server, args.size)
        peer = measure_peer(registry, server, args.size)
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        drop_database(DB)
    report(
        Result(
            "mail_ingest",
            "mails/s",
            ours,
            peer,
            target=5,
            size=args.size,
            extra={
                "resync_s_per_10k": round(resync * 10_000 / args.size, 4),
                "index_catch_up_s": round(index, 2),
            },
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
