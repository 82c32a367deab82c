"""The books of the shop day: what became of every order, read from the database.

:func:`read_books` turns the database and the ground truth of the scenario into plain
data (dicts, lists, numbers) for :mod:`shopday.report`; nothing here writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from .scenario import EXCEPTION_KINDS

STAGES = ("imported", "paid", "shipped", "invoiced", "mailed", "review_invited")
# how a stock shortfall case states its reason (shop_connector's order_checks.check_stock)
STOCK_SHORTFALL_REASON = "Stock shortfall:"
# stages that need the shop's own mail to the customer
MAIL_STAGES = ("mailed", "review_invited")


def missed(reached) -> bool:
    """A stage not reached; ``None`` is a stage that does not apply to the order."""
    return reached is False


def case_kind(case: dict) -> str | None:
    """The planted kind a case reports, from the reason the case records (None: none).

    An import exception carries its code; the other kinds are known by what the case was
    opened for: a delivery the carrier did not confirm, a reply to a review invitation, a
    bounced mail, the order's overdue payment, or the order's release hold whose reason is
    the stock check's.
    """
    if case.get("code"):
        return case["code"] if case["code"] in EXCEPTION_KINDS else None
    if case.get("shipping_record"):
        return "missing_confirmation"
    if case.get("review_reply"):
        return "unhappy_review"
    if case.get("bounce"):
        return "bounced_invoice"
    if case.get("payment_overdue"):
        return "unpaid_prepayment"
    if case.get("release_hold") and STOCK_SHORTFALL_REASON in (case.get("reason") or ""):
        return "stock_shortfall"
    return None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if not later or not earlier:
        return None
    return max((later - earlier).total_seconds(), 0.0)


def read_books(env, day, ids: dict, log) -> dict:
    """Every order's chain, the cases, duplicates and losses, mails by status."""
    backends = {
        platform: env["shop.backend"].browse(bid) for platform, bid in ids["backends"].items()
    }
    imports = {
        (r.backend_id.id, r.external_id): r
        for r in env["shop.order.import"].search(
            [("backend_id", "in", list(ids["backends"].values()))]
        )
    }
    bounce_cases = set(
        env["crm.shop.mail.tracking.line"]
        .search([("bounce_case_id", "!=", False)])
        .bounce_case_id.ids
    )
    cases_by_order = defaultdict(list)
    for case in env["crm.shop.case"].with_context(active_test=False).search([]):
        if case.sale_order_id:
            cases_by_order[case.sale_order_id.id].append(case)
    orders = []
    for order in day.orders:
        backend = backends[order.platform]
        record = imports.get((backend.id, order.external_id))
        sale = record.sale_order_id if record else env["sale.order"]
        cases = cases_by_order.get(sale.id, [])
        orders.append(_order_facts(env, order, record, sale, cases, bounce_cases))
    return {
        "orders": orders,
        "exceptions": _exceptions(orders),
        "lost": _lost(env, day, orders, ids, log),
        "doubled": _doubled(env, ids),
        "mails": _mails(env),
        "unexpected_cases": [
            {"order": o["number"], "cases": o["cases"]}
            for o in orders
            if not o["planted"] and o["cases"]
        ],
        "other_cases": _other_cases(env),
    }


def _case_facts(case, sale, bounce_cases) -> dict:
    """A case as plain data: its owner, deadlines and the reason it records."""
    release_hold = bool(sale) and sale.shop_case_id == case
    return {
        "name": case.display_name,
        "owned": bool(case.queue_id or case.user_id),
        "queue": case.queue_id.name or "",
        "sla_deadline": bool(case.sla_resolution_deadline or case.sla_first_response_deadline),
        "code": case.shop_exception_code or "",
        "shipping_record": bool(
            "shipping_exchange_record_id" in case._fields and case.shipping_exchange_record_id
        ),
        "review_reply": bool("review_request_id" in case._fields and case.review_request_id),
        "bounce": case.id in bounce_cases,
        "payment_overdue": bool(sale) and sale.shop_overdue_case_id == case,
        "release_hold": release_hold,
        "reason": str(case.description or "") if release_hold else "",
        "created": case.create_date,
    }


def _order_facts(env, order, record, sale, cases, bounce_cases=frozenset()) -> dict:
    released = order.created_at
    facts = {
        "index": order.index,
        "why_unpaid": "",
        "number": order.number,
        "platform": order.platform,
        "payment": order.payment,
        "carrier": order.carrier,
        "planted": order.planted,
        "sale_order": sale.name or "",
        "release_state": sale.shop_release_state or "" if sale else "",
        "stage_seconds": {},
        "cases": [_case_facts(case, sale, bounce_cases) for case in cases],
    }
    stages = dict.fromkeys(STAGES, False)
    times = {}
    if record and record.state == "done" and sale:
        stages["imported"] = True
        times["imported"] = record.create_date
    invoices = sale.invoice_ids.filtered(lambda m: m.state == "posted") if sale else []
    if invoices and all(m.payment_state in ("paid", "in_payment") for m in invoices):
        stages["paid"] = True
        matches = env["shop.payment.match"].search(
            [
                "|",
                ("sale_order_id", "=", sale.id),
                ("invoice_ids", "in", invoices.ids),
                ("state", "in", ["confirmed", "auto_confirmed"]),
            ]
        )
        times["paid"] = max(matches.mapped("write_date"), default=None) or sale.shop_paid_date
    elif order.is_marketplace and sale and sale.shop_payment_method == "marketplace_paid":
        # the buyer paid the marketplace at checkout (the order says so); the marketplace
        # pays the merchant out later in one sum, reconciled from its settlement report,
        # which this day does not book: the order counts as paid, its invoice stays open
        stages["paid"] = True
        times["paid"] = record.create_date if record else None
    pickings = (
        sale.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing") if sale else []
    )
    if pickings and all(p.state == "done" for p in pickings):
        stages["shipped"] = all(p.carrier_tracking_ref for p in pickings)
        times["shipped"] = max(pickings.mapped("date_done"))
    if invoices:
        stages["invoiced"] = True
        times["invoiced"] = min(invoices.mapped("create_date"))
        # a mail really left for the customer (not only "marked as sent")
        tracked = env["crm.shop.mail.tracking"].search(
            [("model", "=", "account.move"), ("res_id", "in", invoices.ids)]
        )
        delivered = tracked.line_ids.filtered(lambda line: line.status != "error")
        stages["mailed"] = bool(delivered) and sale.shop_invoice_mail_state == "done"
        if stages["mailed"]:
            times["mailed"] = min(tracked.mapped("sent_date"))
    requests = env["review.request"].search([("sale_order_id", "=", sale.id)]) if sale else []
    sent = [r for r in requests if r.sent_date]
    if sent:
        stages["review_invited"] = True
        times["review_invited"] = min(r.sent_date for r in sent)
    if sale and not stages["paid"]:
        facts["why_unpaid"] = _why_unpaid(env, sale, invoices)
        if order.is_marketplace and facts["why_unpaid"] == "no payment matched":
            facts["why_unpaid"] = "paid at the marketplace, payout not booked"
    if order.is_marketplace and not (sale and sale.partner_id.email):
        # a masked marketplace buyer: the shop has no address to mail (not applicable)
        for stage in MAIL_STAGES:
            if not stages[stage]:
                stages[stage] = None
    facts["stages"] = stages
    facts["stage_seconds"] = {key: _seconds(value, released) for key, value in times.items()}
    facts["complete"] = not any(missed(reached) for reached in stages.values())
    facts["untouched"] = facts["complete"] and not cases
    return facts


def _why_unpaid(env, sale, invoices) -> str:
    """What the payment matching said about the money of an unpaid order."""
    domain = [("sale_order_id", "=", sale.id)]
    if invoices:
        domain = ["|", *domain, ("invoice_ids", "in", invoices.ids)]
    matches = env["shop.payment.match"].search(domain, order="score desc", limit=1)
    if not matches:
        return "no payment matched"
    line = matches.statement_line_id
    return f"{matches.state} (score {matches.score}): {line.shop_match_reason or ''}".strip()


def _exceptions(orders) -> dict:
    """Per kind: planted, found (an owned case with SLA of that kind on the order)."""
    result = {}
    for kind in EXCEPTION_KINDS:
        planted = [o for o in orders if o["planted"] == kind]
        found, cases = [], []
        for order in planted:
            of_kind = [c for c in order["cases"] if case_kind(c) == kind]
            if any(c["owned"] and c["sla_deadline"] for c in of_kind):
                found.append(order)
                cases += [c["name"] for c in of_kind]
        result[kind] = {
            "planted": len(planted),
            "found": len(found),
            "missed": [o["number"] for o in planted if o not in found],
            "cases": cases[:3],
        }
    return result


def _lost(env, day, orders, ids, log) -> dict:
    """Orders, payments and mails that reached us but left no record."""
    not_imported = [o["number"] for o in orders if not o["sale_order"]]
    lines = env["account.bank.statement.line"]
    bank_lines = lines.search_count([("shop_payment_account_id", "=", ids["bank_account"])])
    paypal_lines = lines.search_count(
        [("shop_payment_account_id", "=", ids["paypal_account"]), ("amount", ">", 0)]
    )
    inbound = env["crm.shop.inbound.mail"]
    service_mails = inbound.search_count([("mailbox_id.login", "=", "service")])
    bounce_mails = inbound.search_count([("mailbox_id.login", "=", "bounce")])
    review_cases = env["crm.shop.case"].search_count([("review_request_id", "!=", False)])
    return {
        "orders_not_imported": not_imported,
        "bank_payments": max(log.statement_lines - bank_lines, 0),
        "paypal_payments": max(log.paypal_payments - paypal_lines, 0),
        "customer_mails": max(log.customer_mails - service_mails, 0),
        "bounces": max(log.bounces - bounce_mails, 0),
        "review_replies": max(log.review_replies - review_cases, 0),
        "total": len(not_imported)
        + max(log.statement_lines - bank_lines, 0)
        + max(log.paypal_payments - paypal_lines, 0)
        + max(log.customer_mails - service_mails, 0)
        + max(log.bounces - bounce_mails, 0)
        + max(log.review_replies - review_cases, 0),
    }


def _count_doubles(rows) -> int:
    return sum(count - 1 for count in Counter(rows).values() if count > 1)


def _doubled(env, ids) -> dict:
    """Duplicates by external key; each must be 0."""
    cr = env.cr
    checks = {
        "sale orders per shop order": """
            SELECT shop_backend_id, shop_external_ref FROM sale_order
            WHERE shop_backend_id IS NOT NULL AND state != 'cancel'""",
        "statement lines per transaction key": """
            SELECT journal_id, shop_transaction_key FROM account_bank_statement_line
            WHERE shop_transaction_key IS NOT NULL""",
        "inbound mails per message-id": """
            SELECT mailbox_id, message_id FROM crm_shop_inbound_mail
            WHERE message_id IS NOT NULL""",
        "cases per message-id": """
            SELECT res_id, message_id FROM mail_message
            WHERE model = 'crm.shop.case' AND message_type = 'email' AND message_id IS NOT NULL""",
        "exchange records per delivery": """
            SELECT picking_id, profile_id FROM shipping_exchange_record
            WHERE direction = 'out' AND state != 'cancel'""",
        "invoices per sale order": """
            SELECT sol.order_id, am.id FROM account_move am
            JOIN account_move_line aml ON aml.move_id = am.id
            JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = aml.id
            JOIN sale_order_line sol ON sol.id = rel.order_line_id
            WHERE am.move_type = 'out_invoice' AND am.state = 'posted'
            GROUP BY sol.order_id, am.id""",
        "review requests per order": "SELECT sale_order_id, 1 FROM review_request",
    }
    result = {}
    for label, query in checks.items():
        cr.execute(query)
        rows = cr.fetchall()
        if label == "invoices per sale order":
            result[label] = _count_doubles(order for order, _move in rows)
        elif label == "cases per message-id":
            result[label] = _count_doubles(message_id for _res, message_id in rows)
        else:
            result[label] = _count_doubles(rows)
    result["total"] = sum(result.values())
    return result


def _mails(env) -> dict:
    """Mails the shop sent, by delivery status and by kind (template or model)."""
    lines = env["crm.shop.mail.tracking.line"].search([])
    by_status = Counter(lines.mapped("status"))
    by_kind = Counter()
    for line in lines:
        kind = line.template_id.name or line.model or "other"
        by_kind[(kind, line.status)] += 1
    queue = Counter(env["mail.mail"].search([]).mapped("state"))
    return {
        "by_status": dict(by_status),
        "by_kind": {f"{k} / {s}": n for (k, s), n in sorted(by_kind.items())},
        "queue_left": dict(queue),
    }


def _other_cases(env) -> list[str]:
    return env["crm.shop.case"].search([("sale_order_id", "=", False)]).mapped("display_name")
