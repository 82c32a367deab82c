"""The lookups one cron batch of imported orders shares, kept across its commits.

``shop.order.import._cron_process`` commits after every order, and every commit empties
the ORM cache: without this, each order searched the same products, taxes and so on
again. The batch resolves them once for all its orders, as plain ids (records would be
emptied by the next commit), in one query per kind and company:

* products by SKU and by EAN (what ``product.product._shop_find_products`` searches);
* the company's percent sales taxes by rate and price-included (``_shop_tax``);
* which imports of the batch have activities to close when they are done;
* whether an order's unit queued a customer mail: the mail queue's cron is triggered
  once, when the batch ends, instead of once per order.

Only rows that existed before the batch started are kept (nothing a failed order created
and rolled back can be handed out). A miss is no answer: the caller searches as without a
batch, so a product created while the batch runs is still found.
"""

import itertools

from odoo.fields import Domain

BATCH_KEY = "shop_order_import_batch"
_RUNNING_BATCHES = {}
_BATCH_TOKENS = itertools.count(1)


class OrderImportBatch:
    """Plain-id lookups of one batch; see the module docstring."""

    def __init__(self):
        self.products = {}  # (company id, "sku" | "ean", code) -> product id
        self.taxes = {}  # (company id, rate, price included) -> tax id
        self.with_activities = set()  # shop.order.import ids
        self.mail_queued = False  # a customer mail was queued: trigger the mail queue

    @classmethod
    def prefetch(cls, imports, orders):
        """The batch of ``imports``; ``orders``: ``{import id: ShopOrder}`` mapped so far."""
        batch = cls()
        env = imports.env
        companies = {}
        for record in imports:
            order = orders.get(record.id)
            if order is not None:
                companies.setdefault(record.backend_id.company_id.id, []).append(order)
        for company_id, company_orders in companies.items():
            batch._prefetch_products(env, company_id, company_orders)
            batch._prefetch_taxes(env, company_id)
        activities = (
            env["mail.activity"]
            .sudo()
            .search_fetch(
                Domain("res_model", "=", imports._name) & Domain("res_id", "in", imports.ids),
                ["res_id"],
            )
        )
        batch.with_activities = set(activities.mapped("res_id"))
        return batch

    def _prefetch_products(self, env, company_id, orders):
        lines = [line for order in orders for line in order.lines]
        base = Domain("company_id", "in", [company_id, False]) & Domain("sale_ok", "=", True)
        for kind, field, codes in (
            ("sku", "default_code", {line.sku for line in lines if line.sku}),
            ("ean", "barcode", {line.ean for line in lines if line.ean}),
        ):
            if not codes:
                continue
            products = (
                env["product.product"]
                .with_company(company_id)
                .search_fetch(base & Domain(field, "in", sorted(codes)), [field], order="id")
            )
            for product in products:  # the first by id wins, as in _shop_find_products
                self.products.setdefault((company_id, kind, product[field]), product.id)

    def _prefetch_taxes(self, env, company_id):
        taxes = (
            env["account.tax"]
            .with_company(company_id)
            .search(
                Domain("company_id", "=", company_id)
                & Domain("type_tax_use", "=", "sale")
                & Domain("amount_type", "=", "percent"),
                order="sequence, id",
            )
        )
        for tax in taxes:  # the first by sequence, id wins, as in _shop_tax
            self.taxes.setdefault((company_id, tax.amount, bool(tax.price_include)), tax.id)

    def find_products(self, order, company_id):
        """``{line index: product id}`` as ``_shop_find_products``; None when a line with a
        SKU or EAN was not found (the caller searches then)."""
        found = {}
        for index, line in enumerate(order.lines):
            product_id = self.products.get((company_id, "sku", line.sku)) or self.products.get(
                (company_id, "ean", line.ean)
            )
            if product_id:
                found[index] = product_id
            elif line.sku or line.ean:
                return None
        return found

    def find_tax(self, rate, included, company_id):
        """The id of the tax ``_shop_tax`` would find, or None (the caller searches)."""
        return self.taxes.get((company_id, float(rate), bool(included)))


def start_batch(batch):
    """Register ``batch`` and return its token for the context (``BATCH_KEY``)."""
    token = next(_BATCH_TOKENS)
    _RUNNING_BATCHES[token] = batch
    return token


def end_batch(token):
    _RUNNING_BATCHES.pop(token, None)


def running_batch(env):
    """The batch of the cron run ``env`` belongs to, or None (a single order, a test)."""
    return _RUNNING_BATCHES.get(env.context.get(BATCH_KEY))
