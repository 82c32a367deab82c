"""Figure ``carrier_export``: 1,000 deliveries to a carrier, end to end, against validation.

Ours: build the batch XML, validate it against the generic XSD, build the batch delivery
note PDF, upload both over FTP (``.part`` then rename, one connection) to a pyftpdlib
server on 127.0.0.1. Peer: xmlschema validation of the same document alone (schema
built beforehand, as in ours). Both are the best of ``--repeat`` runs.

Unit seconds, lower is better: ``ratio = peer / ours`` (the harness' rule for
durations). Target 0.5: the whole export costs at most twice the validation alone.

    python3 benchmarks/carrier_export.py [--size 1000]
"""

from __future__ import annotations

import logging
import random
import sys
import tempfile
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pyftpdlib.authorizers import DummyAuthorizer  # noqa: E402
from pyftpdlib.handlers import FTPHandler  # noqa: E402
from pyftpdlib.servers import FTPServer  # noqa: E402

import tests.conftest  # noqa: E402, F401 - mounts the addons as shopaddons.*
from benchmarks.harness import Result, parse_args, report, stopwatch  # noqa: E402
from shopaddons.shipping_exchange.adapters.ftp import FtpSettings, FtpTransport  # noqa: E402
from shopaddons.shipping_exchange.services.delivery_pdf import build_batch_pdf  # noqa: E402
from shopaddons.shipping_exchange.services.delivery_xml import (  # noqa: E402
    Delivery,
    DeliveryLine,
    Recipient,
    build_batch_xml,
    load_schema,
    validate_xml,
)

CITIES = [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg")]
PRODUCTS = [
    ("MUG-01", "Tasse Grün", "0.350"),
    ("TEA-05", "Tee 100 g", "0.100"),
    ("BOOK-9", "Kochbuch", "0.800"),
    ("SOCK-2", "Socken 2er", "0.080"),
]


def make_deliveries(size: int, seed: int = 7) -> list[Delivery]:
    """``size`` realistic deliveries: 1-4 lines, some Packstation, some cash on delivery."""
    rng = random.Random(seed)
    deliveries = []
    for i in range(size):
        zip_code, city = rng.choice(CITIES)
        packstation = rng.random() < 0.2
        recipient = Recipient(
            name=f"Kundin {i} Müller",
            street="Packstation 101" if packstation else f"Hauptstraße {i % 200 + 1}",
            zip=zip_code,
            city=city,
            country="DE",
            email=f"kunde{i}@example.com",
            packstation=packstation,
            post_number="123456789" if packstation else "",
        )
        lines = tuple(
            DeliveryLine(sku, name, Decimal(rng.randint(1, 3)), Decimal(weight))
            for sku, name, weight in rng.sample(PRODUCTS, rng.randint(1, 4))
        )
        cod = rng.random() < 0.1
        deliveries.append(
            Delivery(
                reference=f"WH/OUT/{i + 1:05d}",
                order_reference=f"S{i + 1:05d}",
                recipient=recipient,
                lines=lines,
                cod_amount=Decimal("49.90") if cod else None,
                cod_currency="EUR" if cod else "",
                shipping_date=date(2026, 11, 20),
            )
        )
    return deliveries


def start_ftp(root: Path):
    logger = logging.getLogger("pyftpdlib")
    logger.addHandler(logging.NullHandler())  # else pyftpdlib logs every command to stderr
    logger.propagate = False
    authorizer = DummyAuthorizer()
    authorizer.add_user("carrier", "secret", str(root), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = FTPServer(("127.0.0.1", 0), handler)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            server.ioloop.loop(0.05, blocking=False)
        server.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return server.address[1], stop, thread


def export(deliveries, schema, settings: FtpSettings, run: int) -> None:
    """What the cron does for one batch: build, validate, print, upload."""
    payload = build_batch_xml(deliveries, "ACME")
    validate_xml(payload, schema)
    pdf = build_batch_pdf(deliveries)
    with FtpTransport(settings) as ftp:
        ftp.upload(f"batch-{run}.xml", payload)
        ftp.upload(f"batch-{run}.pdf", pdf)


def main(argv=None) -> Result:
    args = parse_args(1000, __doc__.splitlines()[0], argv)
    repeat = 5
    deliveries = make_deliveries(args.size)
    schema = load_schema()
    payload = build_batch_xml(deliveries, "ACME")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        port, stop, thread = start_ftp(root)
        settings = FtpSettings("127.0.0.1", port, "carrier", "secret", upload_dir="/in")
        try:
            ours = peer = float("inf")
            for run in range(repeat):
                with stopwatch() as elapsed:
                    validate_xml(payload, schema)
                peer = min(peer, elapsed())
                with stopwatch() as elapsed:
                    export(deliveries, schema, settings, run)
                ours = min(ours, elapsed())
            uploaded = sorted(p.name for p in (root / "in").iterdir())
            assert uploaded == sorted(
                f"batch-{r}.{x}" for r in range(repeat) for x in ("pdf", "xml")
            )
        finally:
            stop.set()
            thread.join(5)
    result = Result(
        "carrier_export",
        "s",
        ours,
        peer,
        target=0.5,
        size=args.size,
        higher_is_better=False,
        extra={"xml_bytes": len(payload)},
    )
    report(result)
    return result


if __name__ == "__main__":
    main()
