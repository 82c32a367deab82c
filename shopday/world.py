"""The outside world of the shop day: real local servers and the partners behind them.

* :class:`ApiServer`: one HTTP server on 127.0.0.1 speaking Shopify's Admin REST API
  (``/shopify``), WooCommerce REST v3 (``/woo``), eBay's Sell Fulfillment API v1 with
  its OAuth token endpoint (``/ebay``) and PayPal's Transaction Search (``/paypal``), in
  the formats the adapters of ``shop_connector`` read. Orders become
  visible in waves (:meth:`ApiServer.release`), stamped with the moment they appear.
* FTP (pyftpdlib) and SFTP (paramiko) servers of two carriers, an IMAP server (Debian's
  dovecot) with the shop's mailboxes, and an SMTP server (aiosmtpd) that is the shop's
  outgoing mail server: it accepts every mail and, like a real MTA, sends a delivery
  status notification to the bounce mailbox for recipients that do not exist.
* :class:`Carriers`: read what the shipping exchange uploaded or mailed and, after a
  delay, answer with confirmation files (FTP/SFTP ``out/``) or mails (to the exchange
  profile's alias) with tracking numbers, except for the parcels planted as
  "missing confirmation".

The servers come from ``tests/integration/servers`` (the integration tests use them).
"""

from __future__ import annotations

import email.utils
import json
import re
import shutil
import socket
import tempfile
import threading
import time
import zlib
from datetime import datetime, timezone
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import paramiko
from pyftpdlib.handlers import DTPHandler, FTPHandler

from tests.integration.servers import ftp as ftp_servers
from tests.integration.servers import sftp as sftp_servers
from tests.integration.servers.imap import DovecotServer
from tests.integration.servers.smtp import SmtpTestServer

from .scenario import PAYLOAD_BUILDERS, Day, Order

PAGE = 50
SHOP_DOMAIN = "shop-day.example.com"
MAILBOXES = {"service": "service-pw", "catchall": "catchall-pw", "bounce": "bounce-pw"}
CARRIER_MAIL = "auftraege@spedition-ost.example.net"
CARRIER_SENDER = "bestaetigung@spedition-ost.example.net"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


# --- shops, marketplace and PayPal over HTTP -----------------------------------------


class ApiServer:
    """Shopify, WooCommerce, eBay and PayPal on one local HTTP server."""

    def __init__(self, day: Day):
        self.day = day
        self.lock = threading.Lock()
        self.visible: dict[str, list[dict]] = {"shopify": [], "woocommerce": [], "ebay": []}
        self.paypal: list[dict] = []
        self.requests = 0
        self.shipments: dict[str, list[dict]] = {}  # platform:external id -> write-backs
        self.errors: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server._dispatch(self, "GET")

            def do_POST(self):
                server._dispatch(self, "POST")

            def do_PUT(self):
                server._dispatch(self, "PUT")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    # the day ---------------------------------------------------------------------

    def release(self, orders: list[Order]) -> None:
        """Orders placed now: they appear in their shop, PayPal ones with their payment."""
        stamp = _now()
        with self.lock:
            for order in orders:
                order.created_at = stamp.replace(tzinfo=None)
                payload = PAYLOAD_BUILDERS[order.platform](order)
                self.visible[order.platform].append(payload)

    def add_paypal_payments(self, orders: list[Order]) -> None:
        """PayPal lists the payments of these orders (Transaction Search format)."""
        stamp = _now().strftime("%Y-%m-%dT%H:%M:%S+0000")
        with self.lock:
            for order in orders:
                self.paypal.append(
                    {
                        "transaction_info": {
                            "paypal_account_id": "SHOPDAY0001",
                            "transaction_id": f"9SD{order.index:014d}",
                            "transaction_event_code": "T0006",
                            "transaction_initiation_date": stamp,
                            "transaction_updated_date": stamp,
                            "transaction_amount": {
                                "currency_code": "EUR",
                                "value": str(order.total),
                            },
                            "transaction_status": "S",
                            "invoice_id": order.number,
                            "transaction_subject": f"Bestellung {order.number}",
                        },
                        "payer_info": {
                            "email_address": order.email,
                            "payer_name": {
                                "given_name": order.first_name,
                                "surname": order.last_name,
                                "alternate_full_name": order.name,
                            },
                        },
                    }
                )

    # HTTP --------------------------------------------------------------------------

    def _dispatch(self, handler, method):
        self.requests += 1
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        try:
            if parts.path.startswith("/shopify/"):
                status, data, headers = self._shopify(method, parts.path[8:], query, body)
            elif parts.path.startswith("/woo/"):
                status, data, headers = self._woo(method, parts.path[4:], query, body)
            elif parts.path.startswith("/ebay/"):
                status, data, headers = self._ebay(method, parts.path[5:], query, body)
            elif parts.path.startswith("/paypal/"):
                status, data, headers = self._paypal(method, parts.path[7:], query, body)
            else:
                status, data, headers = 404, {"error": "not found"}, {}
        except Exception as exc:  # noqa: BLE001 - answered as a 500 and kept for the report
            self.errors.append(f"{method} {handler.path}: {exc!r}")
            status, data, headers = 500, {"error": str(exc)}, {}
        raw = b"" if data is None else json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def _since(self, orders, key, since):
        if not since:
            return orders
        limit = datetime.fromisoformat(since.replace("Z", "+00:00"))
        if limit.tzinfo is None:
            limit = limit.replace(tzinfo=timezone.utc)
        return [o for o in orders if _parse(o[key]) >= limit]

    def _shopify(self, method, path, query, body):
        prefix = "/admin/api/2024-07/"
        if not path.startswith(prefix):
            return 404, {"errors": "Not Found"}, {}
        path = path[len(prefix) :]
        if path == "orders.json" and method == "GET":
            if "page_info" in query:
                since, start = query["page_info"].split("|")
                start = int(start)
            else:
                since, start = query.get("updated_at_min", ""), 0
            with self.lock:
                orders = self._since(list(self.visible["shopify"]), "updated_at", since)
            page = orders[start : start + PAGE]
            headers = {}
            if start + PAGE < len(orders):
                query_next = f"limit={PAGE}&page_info={since}|{start + PAGE}"
                link = f"{self.url}/shopify{prefix}orders.json?{query_next}"
                headers["Link"] = f'<{link}>; rel="next"'
            return 200, {"orders": page}, headers
        match = re.fullmatch(r"orders/(\d+)/(fulfillments|fulfillment_orders)\.json", path)
        if match and method == "GET":
            order_id, what = match.groups()
            done = self.shipments.get(f"shopify:{order_id}", [])
            if what == "fulfillments":
                return 200, {"fulfillments": done}, {}
            payload = self._find("shopify", order_id)
            items = [
                {
                    "id": item["id"],
                    "line_item_id": item["id"],
                    "fulfillable_quantity": 0 if done else item["quantity"],
                }
                for item in payload["line_items"]
            ]
            status = "closed" if done else "open"
            return (
                200,
                {
                    "fulfillment_orders": [
                        {"id": int(order_id), "status": status, "line_items": items}
                    ]
                },
                {},
            )
        if path == "fulfillments.json" and method == "POST":
            data = json.loads(body or b"{}")["fulfillment"]
            order_id = str(data["line_items_by_fulfillment_order"][0]["fulfillment_order_id"])
            entry = {
                "id": len(self.shipments) + 1,
                "status": "success",
                "tracking_number": data["tracking_info"]["number"],
                "tracking_numbers": [data["tracking_info"]["number"]],
            }
            self.shipments.setdefault(f"shopify:{order_id}", []).append(entry)
            return 201, {"fulfillment": entry}, {}
        return 404, {"errors": "Not Found"}, {}

    def _woo(self, method, path, query, body):
        prefix = "/wp-json/wc/v3/"
        if not path.startswith(prefix):
            return 404, {"code": "rest_no_route"}, {}
        path = path[len(prefix) :]
        if path == "orders" and method == "GET":
            with self.lock:
                orders = self._since(
                    list(self.visible["woocommerce"]),
                    "date_modified_gmt",
                    query.get("modified_after", ""),
                )
            per_page = int(query.get("per_page") or 10)
            page = int(query.get("page") or 1)
            pages = max(1, -(-len(orders) // per_page))
            chunk = orders[(page - 1) * per_page : page * per_page]
            return 200, chunk, {"X-WP-Total": str(len(orders)), "X-WP-TotalPages": str(pages)}
        match = re.fullmatch(r"orders/(\d+)(/notes)?", path)
        if match:
            order_id, notes = match.groups()
            key = f"woocommerce:{order_id}"
            payload = self._find("woocommerce", order_id)
            if notes and method == "GET":
                return 200, self.shipments.get(key, []), {}
            if notes and method == "POST":
                note = json.loads(body or b"{}")
                self.shipments.setdefault(key, []).append({"id": 1, "note": note.get("note")})
                return 201, note, {}
            if method == "GET":
                return 200, payload, {}
            if method == "PUT":
                payload["status"] = json.loads(body or b"{}").get("status", payload["status"])
                return 200, payload, {}
        return 404, {"code": "rest_no_route"}, {}

    def _ebay(self, method, path, query, body):
        if path == "/identity/v1/oauth2/token" and method == "POST":
            form = parse_qs(body.decode())
            if form.get("grant_type") != ["refresh_token"] or not form.get("refresh_token"):
                return 400, {"error": "invalid_grant"}, {}
            return (
                200,
                {
                    "access_token": "v^1.1#i^1#shop-day",
                    "expires_in": 7200,
                    "token_type": "User Access Token",
                },
                {},
            )
        prefix = "/sell/fulfillment/v1/"
        if not path.startswith(prefix):
            return 404, {"errors": [{"errorId": 2002, "message": "Resource not found"}]}, {}
        path = path[len(prefix) :]
        if path == "order" and method == "GET":
            match = re.search(r"lastmodifieddate:\[([^\]]*?)\.\.", query.get("filter", ""))
            with self.lock:
                orders = self._since(
                    list(self.visible["ebay"]), "lastModifiedDate", match.group(1) if match else ""
                )
            limit, offset = int(query.get("limit") or 50), int(query.get("offset") or 0)
            href = f"{self.url}/ebay{prefix}order"
            data = {
                "href": f"{href}?limit={limit}&offset={offset}",
                "total": len(orders),
                "limit": limit,
                "offset": offset,
                "orders": orders[offset : offset + limit],
            }
            if offset + limit < len(orders):
                data["next"] = f"{href}?limit={limit}&offset={offset + limit}"
            return 200, data, {}
        match = re.fullmatch(r"order/([\w-]+)(/shipping_fulfillment)?", path)
        if match:
            order_id, fulfillment = match.groups()
            payload = self._find("ebay", order_id)
            key = f"ebay:{order_id}"
            if fulfillment and method == "GET":
                done = self.shipments.get(key, [])
                return 200, {"fulfillments": done, "total": len(done)}, {}
            if fulfillment and method == "POST":
                data = json.loads(body or b"{}")
                entry = {
                    "fulfillmentId": data["trackingNumber"],
                    "shipmentTrackingNumber": data["trackingNumber"],
                    "shippingCarrierCode": data.get("shippingCarrierCode", ""),
                    "shippedDate": data.get("shippedDate", ""),
                    "lineItems": data.get("lineItems", []),
                }
                self.shipments.setdefault(key, []).append(entry)
                location = f"{self.url}/ebay{prefix}{path}/{entry['fulfillmentId']}"
                return 201, None, {"Location": location}
            if method == "GET":
                return 200, payload, {}
        return 404, {"errors": [{"errorId": 2002, "message": "Resource not found"}]}, {}

    def _find(self, platform, order_id):
        with self.lock:
            for payload in self.visible[platform]:
                if str(payload.get("orderId") or payload.get("id")) == str(order_id):
                    return payload
        raise KeyError(f"{platform} order {order_id}")

    def _paypal(self, method, path, query, body):
        if path == "/v1/oauth2/token":
            return (
                200,
                {"access_token": "A21-shop-day", "token_type": "Bearer", "expires_in": 32400},
                {},
            )
        if path == "/v1/reporting/transactions":
            start, end = _parse(query["start_date"]), _parse(query["end_date"])
            with self.lock:
                hits = [
                    t
                    for t in self.paypal
                    if start <= _parse(t["transaction_info"]["transaction_initiation_date"]) <= end
                ]
            size, page = int(query.get("page_size") or 100), int(query.get("page") or 1)
            pages = max(1, -(-len(hits) // size))
            return (
                200,
                {
                    "transaction_details": hits[(page - 1) * size : page * size],
                    "page": page,
                    "total_items": len(hits),
                    "total_pages": pages,
                    "links": [],
                },
                {},
            )
        return 404, {"name": "NOT_FOUND"}, {}


def _parse(value: str) -> datetime:
    value = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", value):
        value = value[:-2] + ":" + value[-2:]
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- file servers of the carriers ------------------------------------------------------


class FtpCarrierServer:
    def __init__(self, root: Path):
        self.stop_event, self.thread, self.info = ftp_servers._serve(root, FTPHandler, DTPHandler)
        self.root = self.info.root

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)


class SftpCarrierServer:
    """paramiko's SFTP server of the integration tests, serving ``root`` (in/, out/)."""

    def __init__(self, root: Path):
        self.root = (root / "sftproot").resolve()
        for folder in ("in", "out"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.key = paramiko.ECDSAKey.generate()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.host_key = f"{self.key.get_name()} {self.key.get_base64()}"
        self.user, self.password = sftp_servers.SFTP_USER, sftp_servers.SFTP_PASSWORD
        self.state = {"after": None, "cuts": 0, "transports": []}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.key)
            interface, holder = sftp_servers._make_sftp_interface(self.root, self.state)
            holder[0] = transport
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, interface)
            self.state["transports"].append(transport)
            try:
                transport.start_server(server=sftp_servers._Auth())
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)
        self.listener.close()
        for transport in self.state["transports"]:
            transport.close()


# --- mail ------------------------------------------------------------------------------


class MailWorld:
    """dovecot with the shop's mailboxes and aiosmtpd as the outgoing mail server."""

    def __init__(self, root: Path, bad_addresses: set[str]):
        self.imap_root = Path(tempfile.mkdtemp(prefix="dovecot-sd-"))
        self.imap_root.chmod(0o755)
        self.imap = DovecotServer(root=self.imap_root, port=_free_port(), users=dict(MAILBOXES))
        self.imap.setup()
        self.imap.start()
        self.smtp = SmtpTestServer().__enter__()
        self.bad = {a.lower() for a in bad_addresses}
        self.handled = 0  # messages of self.smtp.messages already looked at
        self.bounces = 0

    def stop(self):
        self.smtp.__exit__(None, None, None)
        self.imap.stop()
        shutil.rmtree(self.imap_root, ignore_errors=True)

    def new_messages(self):
        """Mails the shop sent since the last call, parsed (recipients, message)."""
        messages = self.smtp.messages[self.handled :]
        self.handled += len(messages)
        parsed = []
        for received in messages:
            message = BytesParser(policy=policy.default).parsebytes(received.raw)
            parsed.append((received, message))
            for rcpt in received.rcpt_tos:
                if rcpt.lower() in self.bad:
                    self.deliver(dsn_for(message, rcpt), "bounce")
                    self.bounces += 1
        return parsed

    def deliver(self, message: EmailMessage | bytes, user: str) -> int:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        return self.imap.deliver(raw, user=user)


def dsn_for(original, recipient: str) -> bytes:
    """An RFC 3464 delivery status notification: ``recipient`` does not exist."""
    boundary = f"dsn-{abs(zlib.crc32(recipient.encode()))}-{time.monotonic_ns()}"
    quoted = "".join(
        f"{key}: {original[key]}\r\n"
        for key in ("From", "To", "Subject", "Date", "Message-ID")
        if original[key]
    )
    sender = original.get("Return-Path") or original.get("From") or f"bounce@{SHOP_DOMAIN}"
    text = (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.{SHOP_DOMAIN}>\r\n"
        f"To: {sender}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: {email.utils.make_msgid(domain=f'mx.{SHOP_DOMAIN}')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system at host mx.{SHOP_DOMAIN}.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        f"<{recipient}>: host mx.kunden.example.org said: 550 5.1.1 <{recipient}>:\r\n"
        "    Recipient address rejected: User unknown in virtual mailbox table\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.{SHOP_DOMAIN}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Remote-MTA: dns; mx.kunden.example.org\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected:\r\n"
        "    User unknown in virtual mailbox table\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"{quoted}\r\n"
        f"--{boundary}--\r\n"
    )
    return text.encode("utf-8")


def customer_mail(order: Order, subject: str, body: str, to: str, **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = email.utils.formataddr((order.name, order.email))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain="kunden.example.org")
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    message.set_content(body)
    return message


# --- carriers --------------------------------------------------------------------------


class Carriers:
    """Read what the exchange sent; confirm each delivery after ``delay`` seconds."""

    def __init__(
        self,
        ftp_root: Path,
        sftp_root: Path,
        mail: MailWorld,
        alias: str,
        delay: float,
        withheld: set[str],
        shelf: dict | None = None,
    ):
        self.folders = {"ftp": ftp_root, "sftp": sftp_root}
        self.mail = mail
        self.alias = alias
        self.delay = delay
        self.withheld = set(withheld)  # recipient_key() of the parcels that get lost
        self.shelf = dict(shelf or {})  # sku -> pieces on the provider's shelf (others: plenty)
        self.waiting: list[tuple[float, str, str, list[tuple[str, str]]]] = []
        self.seen_files: set[str] = set()
        self.confirmed: dict[str, str] = {}  # delivery reference -> tracking number
        self.withheld_refs: set[str] = set()
        self.counter = 0

    def collect(self, mails=()) -> None:
        """Pick up new delivery orders from the upload folders and the carrier's mails."""
        for transport, root in self.folders.items():
            for path in sorted((root / "in").glob("*.xml")):
                if path.name in self.seen_files:
                    continue
                self.seen_files.add(path.name)
                self._read(transport, path.read_bytes())
        for received, message in mails:
            if CARRIER_MAIL not in [r.lower() for r in received.rcpt_tos]:
                continue
            for part in message.iter_attachments():
                if (part.get_filename() or "").endswith(".xml"):
                    self._read("email", part.get_payload(decode=True))

    def _read(self, transport: str, content: bytes) -> None:
        from lxml import etree

        root = etree.fromstring(content)
        for delivery in root.iter("Delivery"):
            reference = delivery.get("reference")
            lines = [
                (line.findtext("Sku") or "", line.findtext("Quantity") or "1")
                for line in delivery.iter("Line")
            ]
            recipient = recipient_key(
                delivery.findtext("Recipient/Name") or "",
                delivery.findtext("Recipient/Street") or "",
                delivery.findtext("Recipient/Zip") or "",
            )
            if recipient in self.withheld:
                self.withheld_refs.add(reference)
                continue
            # the provider ships what its shelf holds; the rest stays open (a backorder)
            lines = [
                (sku, str(min(Decimal(qty), self.shelf[sku])) if sku in self.shelf else qty)
                for sku, qty in lines
            ]
            for sku, qty in lines:
                if sku in self.shelf:
                    self.shelf[sku] -= Decimal(qty)
            self.waiting.append((time.monotonic() + self.delay, transport, reference, lines))

    def confirm_due(self, force: bool = False) -> int:
        """Drop the confirmations whose delay is over; return how many."""
        now = time.monotonic()
        due = [w for w in self.waiting if force or w[0] <= now]
        self.waiting = [w for w in self.waiting if w not in due]
        by_transport: dict[str, list] = {}
        for _at, transport, reference, lines in due:
            by_transport.setdefault(transport, []).append((reference, lines))
        for transport, items in by_transport.items():
            self.counter += 1
            content = self._confirmation_xml(items)
            name = f"confirm_{self.counter:05d}.xml"
            if transport == "email":
                message = EmailMessage()
                message["From"] = f"Spedition Ost <{CARRIER_SENDER}>"
                message["To"] = self.alias
                message["Subject"] = f"Versandbestätigung {self.counter}"
                message["Date"] = email.utils.formatdate(localtime=False)
                message["Message-ID"] = email.utils.make_msgid(domain="spedition-ost.example.net")
                message.set_content("Anbei die Versandbestätigung.")
                message.add_attachment(
                    content, maintype="application", subtype="xml", filename=name
                )
                self.mail.deliver(message, "catchall")
            else:
                out = self.folders[transport] / "out"
                (out / f"{name}.part").write_bytes(content)
                (out / f"{name}.part").rename(out / name)
        return len(due)

    def _confirmation_xml(self, items) -> bytes:
        parts = ["<?xml version='1.0' encoding='UTF-8'?>", "<Confirmations>"]
        for reference, lines in items:
            tracking = f"00340434{zlib.crc32(reference.encode()):012d}"
            self.confirmed[reference] = tracking
            parts.append(f'<Confirmation reference="{reference}">')
            parts.append(f"<TrackingNumber>{tracking}</TrackingNumber><Carrier>SIM</Carrier>")
            for sku, qty in lines:
                parts.append(f'<Line sku="{sku}" quantity="{qty}"/>')
            parts.append("</Confirmation>")
        parts.append("</Confirmations>")
        return "\n".join(parts).encode()


def recipient_key(name: str, street: str, zip_code: str) -> str:
    """How a carrier recognises a parcel's recipient on the delivery order."""
    return "|".join(x.strip().casefold() for x in (name, street, zip_code))
