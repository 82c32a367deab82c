"""Run the shop day: a fresh Odoo database, the local world, the real scheduled jobs.

Odoo runs in this process through its registry (as the benchmarks do). The day is a
series of ticks; each tick lets some customers order, the partners answer, and every
scheduled action of our addons and Odoo's mail queue and mail gateway run as the
scheduler would run them (``ir.cron.method_direct_trigger``: the job's own transaction,
``_commit_progress`` per record). Nothing is called behind the jobs' backs except what
a person does at a desk: uploading the bank statement.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from . import scenario
from .world import (
    CARRIER_MAIL,
    CARRIER_SENDER,
    MAILBOXES,
    SHOP_DOMAIN,
    ApiServer,
    Carriers,
    FtpCarrierServer,
    MailWorld,
    SftpCarrierServer,
    customer_mail,
    recipient_key,
)

ROOT = Path(__file__).resolve().parents[1]
ADDONS = ("mail_crm_shop", "shop_connector", "shipping_exchange", "review_request")
IBAN = "DE89370400440532013000"
_logger = logging.getLogger("shopday")

# the pipeline order of the scheduled actions in a tick; our addons' other frequent
# actions (interval up to an hour) follow in the order of their records
TICK_ORDER = (
    "shop_connector.ir_cron_import",
    "shop_connector.ir_cron_process",
    "shipping_exchange.ir_cron_route",
    "shipping_exchange.ir_cron_send",
    "mail.ir_cron_mail_scheduler_action",
    "shipping_exchange.ir_cron_fetch_confirmations",
    "mail.ir_cron_mail_gateway_action",
    "shipping_exchange.ir_cron_process_confirmations",
    "shop_connector.ir_cron_run_sync_jobs",
    "shop_connector.ir_cron_import_paypal",
    "review_request.ir_cron_send_due",
    "mail.ir_cron_mail_scheduler_action",
    "mail_crm_shop.ir_cron_sync_mailboxes",
    "mail_crm_shop.ir_cron_process_inbound_mail",
)
NIGHT_EXTRA = ("mail.ir_cron_mail_scheduler_action",)
INTERVAL_MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}


def scheduled_actions(env, night: bool = False) -> list[str]:
    """The active scheduled actions of our addons: those of a tick (every quarter of an
    hour: interval up to an hour), or all of them for the night."""
    data = env["ir.model.data"].search(
        [("model", "=", "ir.cron"), ("module", "in", list(ADDONS))], order="id"
    )
    ours = []
    for row in data:
        cron = env["ir.cron"].browse(row.res_id).exists()
        minutes = INTERVAL_MINUTES.get(cron.interval_type, 1) * cron.interval_number
        if cron.active and (night or minutes <= 60):
            ours.append(f"{row.module}.{row.name}")
    if night:
        return [*ours, *NIGHT_EXTRA]
    first = [x for x in TICK_ORDER if x in ours or x.startswith("mail.")]
    return first + [x for x in ours if x not in first]


@dataclass
class Settings:
    orders: int = 1000
    database: str = "shop_day"
    seed: int = 1
    waves: int = 8
    carrier_delay: float = 2.0
    time_budget: float = 3600.0


@dataclass
class DayLog:
    """What happened, for the report (the books are read from the database later)."""

    install_seconds: float = 0.0
    setup_seconds: float = 0.0
    day_seconds: float = 0.0
    ticks: int = 0
    cron_seconds: Counter = field(default_factory=Counter)
    cron_runs: Counter = field(default_factory=Counter)
    cron_failures: list = field(default_factory=list)
    customer_mails: int = 0
    review_replies: int = 0
    statements: int = 0
    statement_lines: int = 0
    paypal_payments: int = 0
    bounces: int = 0
    api_requests: int = 0
    api_errors: list = field(default_factory=list)
    write_backs: dict = field(default_factory=dict)  # platform -> orders reported shipped


# --- database -------------------------------------------------------------------------


def install(settings: Settings, log: DayLog) -> None:
    """Drop the database and install the four addons into a fresh one (no demo data)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from backoffice import drop_database, odoo_command

    drop_database(settings.database)
    started = time.monotonic()
    subprocess.run(
        odoo_command(
            "-d",
            settings.database,
            "-i",
            ",".join(ADDONS),
            "--stop-after-init",
            "--http-interface",
            "127.0.0.1",
            "--log-level",
            "warn",
        ),
        check=True,
        cwd="/",
    )
    log.install_seconds = time.monotonic() - started


def copy_template(settings: Settings, template: str, log: DayLog) -> None:
    """A fresh database as a copy of ``template`` (the addons installed there already)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import psycopg2
    from backoffice import _db_settings, drop_database

    drop_database(settings.database)
    started = time.monotonic()
    opts = _db_settings()
    conn = psycopg2.connect(
        host=opts["--db_host"], port=opts["--db_port"], user=opts["--db_user"], dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'CREATE DATABASE "{settings.database}" TEMPLATE "{template}"')
    conn.close()
    log.install_seconds = time.monotonic() - started


def open_registry(database: str):
    sys.path.insert(0, str(ROOT / "scripts"))
    from backoffice import odoo_command

    import odoo  # noqa: F401
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(
        [*odoo_command("-d", database)[3:], "--http-interface", "127.0.0.1"], setup_logging=False
    )
    return Registry(database)


@contextlib.contextmanager
def odoo_env(registry):
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


# --- set-up -------------------------------------------------------------------------


@dataclass
class World:
    api: ApiServer
    ftp: FtpCarrierServer
    sftp: SftpCarrierServer
    mail: MailWorld
    carriers: Carriers
    tmp: Path


def start_world(day: scenario.Day, settings: Settings) -> World:
    tmp = Path(tempfile.mkdtemp(prefix="shop-day-"))
    api = ApiServer(day).start()
    ftp = FtpCarrierServer(tmp / "ftp")
    sftp = SftpCarrierServer(tmp / "sftp")
    bad = {o.email for o in day.orders if o.planted == "bounced_invoice"}
    mail = MailWorld(tmp, bad)
    withheld = {
        recipient_key(o.name, o.street, o.zip)
        for o in day.orders
        if o.planted == "missing_confirmation"
    }
    shelf = {scenario.SCARCE_SKU: Decimal(scenario.SCARCE_STOCK)}
    carriers = Carriers(
        ftp.root, sftp.root, mail, f"versand@{SHOP_DOMAIN}", settings.carrier_delay, withheld, shelf
    )
    return World(api, ftp, sftp, mail, carriers, tmp)


def stop_world(world: World) -> None:
    import shutil

    world.api.stop()
    world.ftp.stop()
    world.sftp.stop()
    world.mail.stop()
    shutil.rmtree(world.tmp, ignore_errors=True)


def configure(registry, world: World, day: scenario.Day) -> dict:
    """Company, mail, queue, mailboxes, shops, carriers, payments, reviews; return ids."""
    with odoo_env(registry) as env:
        ids = _configure(env, world, day)
        env.cr.commit()
    return ids


def _configure(env, world: World, day: scenario.Day) -> dict:
    from odoo import Command

    company = env.company
    company.write(
        {
            "name": "Shop Day GmbH",
            "email": f"info@{SHOP_DOMAIN}",
            "country_id": env.ref("base.de").id,
        }
    )
    eur = env.ref("base.EUR")
    eur.active = True
    alias_domain = env["mail.alias.domain"].create(
        {"name": SHOP_DOMAIN, "catchall_alias": "catchall", "bounce_alias": "bounce"}
    )
    company.alias_domain_id = alias_domain
    env["ir.config_parameter"].set_param("web.base.url", "http://localhost:8069")
    env["ir.mail_server"].create(
        {
            "name": "Shop day SMTP",
            "smtp_host": world.mail.smtp.host,
            "smtp_port": world.mail.smtp.port,
            "smtp_encryption": "none",
        }
    )
    agents = env["res.users"].create(
        [
            {
                "name": f"Agent {n}",
                "login": f"agent{n}@{SHOP_DOMAIN}",
                "email": f"agent{n}@{SHOP_DOMAIN}",
                "group_ids": [Command.link(env.ref("mail_crm_shop.group_user").id)],
            }
            for n in (1, 2)
        ]
    )
    queue = env["crm.shop.queue"].create(
        {
            "name": "Kundenservice",
            "member_ids": [Command.set(agents.ids)],
            "sla_first_response_hours": 4,
            "sla_resolution_hours": 24,
            "sla_calendar_id": company.resource_calendar_id.id,
        }
    )
    imap = world.mail.imap
    env["crm.shop.mailbox"].create(
        [
            {
                "name": "Service",
                "email": f"service@{SHOP_DOMAIN}",
                "host": imap.host,
                "port": imap.port,
                "security": "none",
                "login": "service",
                "password": MAILBOXES["service"],
                "queue_id": queue.id,
            },
            {
                "name": "Bounces",
                "email": f"bounce@{SHOP_DOMAIN}",
                "host": imap.host,
                "port": imap.port,
                "security": "none",
                "login": "bounce",
                "password": MAILBOXES["bounce"],
                "queue_id": queue.id,
                "is_bounce_mailbox": True,
            },
        ]
    )
    fetch = env["fetchmail.server"].create(
        {
            "name": "Catchall",
            "server_type": "imap",
            "server": imap.host,
            "port": imap.port,
            "is_ssl": False,
            "user": "catchall",
            "password": MAILBOXES["catchall"],
        }
    )
    fetch.button_confirm_login()
    # products
    stock = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1).lot_stock_id
    Product = env["product.product"]
    for sku in (*scenario.CATALOGUE, scenario.BULKY_SKU, scenario.SCARCE_SKU):
        product = Product.create(
            {
                "name": f"Artikel {sku}",
                "default_code": sku,
                "type": "consu",
                "is_storable": True,
                "list_price": 11.90,
                "weight": 30.0 if sku == scenario.BULKY_SKU else 0.5,
                "invoice_policy": "order",
                "shop_is_bulky": sku == scenario.BULKY_SKU,
            }
        )
        qty = scenario.SCARCE_STOCK if sku == scenario.SCARCE_SKU else 100_000
        env["stock.quant"]._update_available_quantity(product, stock, qty)
    pricelist = env["product.pricelist"].create({"name": "Shop EUR", "currency_id": eur.id})
    carrier = env["delivery.carrier"].create(
        {
            "name": "Standardversand",
            "delivery_type": "fixed",
            "fixed_price": 4.90,
            "product_id": env.ref("shop_connector.product_shop_shipping").id,
        }
    )
    # shops and the marketplace: a sales team each (review invitations after 0 days,
    # existing customers); eBay's OAuth token endpoint is the local server's as well
    teams = {}
    backends = {}
    channels = (("shopify", "Shopify-Shop"), ("woocommerce", "WooCommerce-Shop"), ("ebay", "eBay"))
    for platform, label in channels:
        teams[platform] = env["crm.team"].create(
            {
                "name": label,
                "review_delay_days": 0,
                "review_existing_customer": True,
                "review_objection_notice": True,
                "review_queue_id": queue.id,
            }
        )
        base = {
            "shopify": f"{world.api.url}/shopify",
            "woocommerce": f"{world.api.url}/woo",
            "ebay": f"{world.api.url}/ebay",
        }[platform]
        marketplace = {}
        if platform == "ebay":
            marketplace = {
                "api_refresh_token": "v^1.1#i^1#r^1#shop-day-consent",
                "api_token_url": f"{base}/identity/v1/oauth2/token",
            }
        backends[platform] = env["shop.backend"].create(
            {
                "name": label,
                "backend_type": platform,
                "api_url": base,
                "api_key": "ck_shopday",
                "api_secret": "shopday-secret",
                **marketplace,
                "import_since_date": date.today() - timedelta(days=1),
                "team_id": teams[platform].id,
                "pricelist_id": pricelist.id,
                "default_carrier_id": carrier.id,
                "exception_queue_id": queue.id,
                "payment_overdue_days": 1,
                "payment_method_map_ids": [
                    Command.create({"shop_code": code, "method_kind": kind})
                    for kind, code in scenario.PAYMENT_CODES[platform].items()
                ],
            }
        )
    # carriers: FTP (Shopify's and eBay's parcels), SFTP (WooCommerce's), e-mail (Austria)
    common = {"case_queue_id": queue.id, "confirmation_hours": 1, "send_mode": "schedule"}
    ftp = env["shipping.exchange.profile"].create(
        {
            **common,
            "name": "Paketdienst Nord (FTP)",
            "transport": "ftp",
            "host": world.ftp.info.host,
            "port": world.ftp.info.port,
            "login": world.ftp.info.user,
            "password": world.ftp.info.password,
            "remote_dir": "/in",
            "confirmation_dir": "/out",
            "shipper_code": "NORD-4711",
        }
    )
    sftp = env["shipping.exchange.profile"].create(
        {
            **common,
            "name": "Fulfilment Süd (SFTP)",
            "transport": "sftp",
            "host": "127.0.0.1",
            "port": world.sftp.port,
            "login": world.sftp.user,
            "password": world.sftp.password,
            "host_key": world.sftp.host_key,
            "remote_dir": "/in",
            "confirmation_dir": "/out",
            "shipper_code": "SUED-0815",
        }
    )
    carrier_partner = env["res.partner"].create(
        {"name": "Spedition Ost", "email": CARRIER_SENDER, "is_company": True}
    )
    by_mail = env["shipping.exchange.profile"].create(
        {
            **common,
            "name": "Spedition Ost (E-Mail)",
            "transport": "email",
            "email_to": CARRIER_MAIL,
            "alias_name": "versand",
            "partner_id": carrier_partner.id,
            "shipper_code": "OST-42",
        }
    )
    by_mail.message_subscribe(partner_ids=carrier_partner.ids)
    Rule = env["shipping.exchange.rule"]
    Rule.create(
        {
            "name": "Österreich",
            "sequence": 1,
            "profile_id": by_mail.id,
            "country_ids": [Command.set(env.ref("base.at").ids)],
        }
    )
    Rule.create(
        {
            "name": "WooCommerce",
            "sequence": 2,
            "profile_id": sftp.id,
            "team_ids": [Command.set(teams["woocommerce"].ids)],
            "packstation_allowed": True,
        }
    )
    Rule.create({"name": "Alle anderen", "sequence": 3, "profile_id": ftp.id, "max_weight": 25})
    # payments: PayPal and the bank account, confirmed automatically when sure
    journals = env["account.journal"]
    paypal_journal = journals.create(
        {"name": "PayPal", "type": "bank", "code": "PYPL", "currency_id": False}
    )
    bank_journal = journals.search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    accounts = env["shop.payment.account"].create(
        [
            {
                "name": "PayPal",
                "kind": "paypal",
                "journal_id": paypal_journal.id,
                "account_identifier": "shop-day@paypal.example.com",
                "paypal_client_id": "shop-day-client",
                "paypal_client_secret": "shop-day-secret",
                "paypal_api_url": f"{world.api.url}/paypal",
                "auto_confirm": True,
                "queue_id": queue.id,
            },
            {
                "name": "Bank",
                "kind": "bank",
                "journal_id": bank_journal.id,
                "account_identifier": IBAN,
                "auto_confirm": True,
                "queue_id": queue.id,
            },
        ]
    )
    # review invitations: one platform, the general rule, the mail blocks
    platform = env["review.platform"].create(
        {
            "name": "Trusted Shops",
            "platform_type": "trusted_shops",
            "url_template": "https://www.trustedshops.de/bewertung/info_SHOPDAY.html",
        }
    )
    env["review.rule"].create({"platform_id": platform.id, "sequence": 100})
    blocks = [
        ("greeting", "Anrede", "<p>Hallo {customer},</p>"),
        ("thanks", "Dank", "<p>vielen Dank für Ihre Bestellung {order}.</p>"),
        ("link", "Link", "<p>Bewerten Sie uns auf {platform}: {link}</p>"),
        (
            "legal",
            "Rechtliches",
            "<p><small>{shop} schickt diese Einladung, weil Sie bei uns gekauft haben. "
            "Widerspruch jederzeit: {optout_link}</small></p>",
        ),
    ]
    env["review.mail.block"].create(
        [
            {"kind": kind, "name": name, "body": body, "sequence": n}
            for n, (kind, name, body) in enumerate(blocks)
        ]
    )
    return {
        "queue": queue.id,
        "backends": {k: v.id for k, v in backends.items()},
        "profiles": {"ftp": ftp.id, "sftp": sftp.id, "email": by_mail.id},
        "bank_account": accounts[1].id,
        "paypal_account": accounts[0].id,
    }


# --- running the jobs -------------------------------------------------------------------


def run_cron(registry, xmlid: str, log: DayLog) -> None:
    """Run one scheduled action as the scheduler would (its own transaction)."""
    started = time.monotonic()
    with odoo_env(registry) as env:
        cron = env.ref(xmlid)
        try:
            result = cron.method_direct_trigger()
        except Exception as exc:  # noqa: BLE001 - kept for the report
            log.cron_failures.append(f"{xmlid}: {exc}")
            env.cr.rollback()
        else:
            if isinstance(result, dict):
                log.cron_failures.append(f"{xmlid}: {result['params']['message']}")
        env.cr.commit()
    log.cron_seconds[xmlid] += time.monotonic() - started
    log.cron_runs[xmlid] += 1


# --- the day ------------------------------------------------------------------------------


class Day:
    def __init__(
        self, registry, world: World, day: scenario.Day, ids: dict, settings: Settings, log: DayLog
    ):
        self.registry, self.world, self.day, self.ids = registry, world, day, ids
        self.settings, self.log = settings, log
        self.by_email = {o.email.lower(): o for o in day.orders}
        self.invoice_numbers: dict[int, str] = {}  # order index -> number from the invoice mail
        self.order_refs: dict[int, str] = {}  # order index -> order number seen in our mails
        self.paid_by_bank: set[int] = set()
        self.paypal_paid: set[int] = set()
        self.replied: set[int] = set()
        self.asked: set[int] = set()
        self.released: list[scenario.Order] = []
        self.tick_crons: list[str] = []

    def run(self) -> None:
        waves = _waves(self.day.orders, self.settings.waves)
        started = time.monotonic()
        deadline = started + self.settings.time_budget
        mid_statement_done = False
        last, still = None, 0
        while time.monotonic() < deadline:
            self.log.ticks += 1
            if waves:
                wave = waves.pop(0)
                self.world.api.release(wave)
                self.released += wave
            elif not mid_statement_done:
                self.bank_statement("Kontoauszug 1")  # the morning's transfers, at noon
                mid_statement_done = True
            self.tick()
            progress = self._progress()
            still = still + 1 if progress == last else 0
            last = progress
            if not waves and mid_statement_done and not self.world.carriers.waiting and still >= 2:
                break
        # the evening: customers ask about parcels that did not come; the second statement
        self.customers_write()
        self.bank_statement("Kontoauszug 2")
        for _ in range(3):
            self.world.carriers.confirm_due(force=True)
            self.tick()
        self.bank_statement("Kontoauszug 3")
        self.tick()
        self.log.day_seconds = time.monotonic() - started
        self.overnight()
        self.log.api_requests = self.world.api.requests
        self.log.api_errors = list(self.world.api.errors)
        self.log.write_backs = dict(
            Counter(key.split(":")[0] for key, done in self.world.api.shipments.items() if done)
        )

    def tick(self) -> None:
        """One tick stands for a quarter of an hour: the shops' import interval is over."""
        with odoo_env(self.registry) as env:
            env["shop.backend"].search([]).write({"next_sync_date": False})
            env.cr.commit()
        if not self.tick_crons:
            with odoo_env(self.registry) as env:
                self.tick_crons = scheduled_actions(env)
        for xmlid in self.tick_crons:
            run_cron(self.registry, xmlid, self.log)
            if xmlid == "mail.ir_cron_mail_scheduler_action":
                self.partners_react()

    def partners_react(self) -> None:
        """The outside world reads the mails the shop sent and answers."""
        messages = self.world.mail.new_messages()
        self.world.carriers.collect(messages)
        self.world.carriers.confirm_due()
        for received, message in messages:
            subject = str(message["Subject"] or "")
            body = _text(message)
            for rcpt in received.rcpt_tos:
                order = self.by_email.get(rcpt.lower())
                if not order:
                    continue
                number = re.search(r"invoice (\S+)", subject)
                if number:
                    self.invoice_numbers[order.index] = number.group(1)
                reference = re.search(r"\bS\d{5,}\b", body)
                if reference and order.index not in self.order_refs:
                    self.order_refs[order.index] = reference.group(0)
                if "How did you like" in subject:
                    self._review_reply(order, message)
        self.log.bounces = self.world.mail.bounces
        self.shop_shipped_paypal()

    def _review_reply(self, order, invitation) -> None:
        if order.planted != "unhappy_review" or order.index in self.replied:
            return
        self.replied.add(order.index)
        reply_to = str(invitation["Reply-To"] or invitation["From"])
        message = customer_mail(
            order,
            f"Re: {invitation['Subject']}",
            "Sehr enttäuscht! Die Ware kam beschädigt an, der Service ist eine Katastrophe. "
            "Ein Stern. Ich will mein Geld zurück.",
            reply_to,
            In_Reply_To=invitation["Message-ID"],
            References=invitation["Message-ID"],
        )
        self.world.mail.deliver(message, "catchall")
        self.log.review_replies += 1

    def shop_shipped_paypal(self) -> None:
        """PayPal captures the payment when the shop reports the parcel as shipped."""
        shipped = []
        for order in self.released:
            if order.payment != "paypal" or order.index in self.paypal_paid:
                continue
            key = f"{order.platform}:{order.external_id}"
            if self.world.api.shipments.get(key):
                shipped.append(order)
                self.paypal_paid.add(order.index)
        if shipped:
            self.world.api.add_paypal_payments(shipped)
            self.log.paypal_payments += len(shipped)

    def customers_write(self) -> None:
        """Questions about orders to the service mailbox, once the order was confirmed."""
        for mail in self.day.customer_mails:
            order = self.day.orders[mail.order_index]
            if mail.order_index in self.asked or order not in self.released:
                continue
            self.asked.add(mail.order_index)
            self.world.mail.deliver(
                customer_mail(order, mail.subject, mail.body, f"service@{SHOP_DOMAIN}"), "service"
            )
            self.log.customer_mails += 1

    def bank_statement(self, name: str) -> None:
        """The bank's CAMT.053 of the transfers so far, uploaded by the bookkeeper."""
        entries = []
        for order in self.released:
            if order.index in self.paid_by_bank or order.planted == "unpaid_prepayment":
                continue
            if order.payment == "prepayment":
                seen = self.order_refs.get(order.index, "")
                purpose = f"Bestellung {order.number} {seen} {order.name}"
            elif order.payment == "invoice" and order.index in self.invoice_numbers:
                purpose = f"Rechnung {self.invoice_numbers[order.index]}"
            else:
                continue
            self.paid_by_bank.add(order.index)
            entries.append((order, purpose))
        if not entries:
            return
        xml = camt053(name, entries)
        with odoo_env(self.registry) as env:
            wizard = env["shop.payment.import.wizard"].create(
                {
                    "payment_account_id": self.ids["bank_account"],
                    "file_format": "camt",
                    "data_file": base64.b64encode(xml),
                    "filename": f"{name}.xml",
                }
            )
            wizard.action_import()
            env.cr.commit()
        self.log.statements += 1
        self.log.statement_lines += len(entries)

    def _progress(self) -> tuple:
        """Counts that move while work is being done (the day ends when they stop)."""
        with odoo_env(self.registry) as env:
            return (
                env["shop.order.import"].search_count([("state", "=", "done")]),
                env["stock.picking"].search_count([("state", "=", "done")]),
                env["account.move"].search_count([("state", "=", "posted")]),
                env["account.bank.statement.line"].search_count([("is_reconciled", "=", True)]),
                env["review.request"].search_count([("sent_date", "!=", False)]),
                env["crm.shop.inbound.mail"].search_count([]),
                env["crm.shop.case"].search_count([]),
                env["mail.mail"].search_count([("state", "=", "outgoing")]),
                len(self.world.carriers.confirmed),
            )

    def overnight(self) -> None:
        """The night: the clock moves on two days for the jobs that wait for deadlines."""
        from freezegun import freeze_time

        with odoo_env(self.registry) as env:
            night = scheduled_actions(env, night=True)
        with freeze_time(datetime.now(timezone.utc) + timedelta(days=2), tick=True):
            for xmlid in night:
                run_cron(self.registry, xmlid, self.log)
        self.world.carriers.confirm_due(force=True)


def _text(message) -> str:
    """The readable text of a mail (plain and HTML parts), as the customer sees it."""
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            with contextlib.suppress(LookupError, UnicodeError):
                texts.append(part.get_content())
    return re.sub(r"<[^>]+>", " ", " ".join(texts))


def _waves(orders, count):
    size = max(1, -(-len(orders) // count))
    return [orders[i : i + size] for i in range(0, len(orders), size)]


def camt053(name: str, entries) -> bytes:
    """A CAMT.053.001.02 statement with one credit entry per (order, purpose)."""
    today = date.today().isoformat()
    total = sum((o.total for o, _p in entries), Decimal(0))
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">',
        "<BkToCstmrStmt><GrpHdr>",
        f"<MsgId>{name.replace(' ', '-')}</MsgId><CreDtTm>{today}T18:00:00</CreDtTm>",
        "</GrpHdr><Stmt>",
        f"<Id>{name.replace(' ', '-')}</Id><CreDtTm>{today}T18:00:00</CreDtTm>",
        f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>",
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{today}</Dt></Dt></Bal>",
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{total}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{today}</Dt></Dt></Bal>",
    ]
    for order, purpose in entries:
        ref = f"SD{order.index:06d}{name[-1]}"
        parts.append(
            f'<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="EUR">{order.total}</Amt>'
            "<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{today}</Dt></BookgDt><ValDt><Dt>{today}</Dt></ValDt>"
            f"<AcctSvcrRef>{ref}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
            "</Domn></BkTxCd>"
            "<NtryDtls><TxDtls>"
            f"<Refs><AcctSvcrRef>{ref}</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{order.total}</Amt></TxAmt></AmtDtls>'
            f"<RltdPties><Dbtr><Nm>{order.name}</Nm></Dbtr>"
            f"<DbtrAcct><Id><IBAN>DE0210050000{order.index:010d}</IBAN></Id></DbtrAcct></RltdPties>"
            f"<RmtInf><Ustrd>{purpose}</Ustrd></RmtInf>"
            "</TxDtls></NtryDtls></Ntry>"
        )
    parts.append("</Stmt></BkToCstmrStmt></Document>")
    return "".join(parts).encode()
