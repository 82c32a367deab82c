import json
import logging
from datetime import timedelta, timezone

from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import mute_logger

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.shops.base import MAPPING_ERRORS
from ..adapters.shops.registry import PAYLOAD_MAPPERS
from ..services.orders import OrderPage
from .shop_order_import_batch import (
    BATCH_KEY,
    OrderImportBatch,
    end_batch,
    running_batch,
    start_batch,
)

_logger = logging.getLogger(__name__)


def _naive_utc(value):
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value else False


class ShopOrderImport(models.Model):
    """One order as fetched from a shop: the raw payload first, the sale order later."""

    _name = "shop.order.import"
    _description = "Imported shop order"
    _inherit = ["crm.shop.work.unit.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "external_id"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="restrict", index=True)
    external_id = fields.Char(string="External order id", required=True, readonly=True)
    payload = fields.Text(readonly=True, help="The order exactly as the shop delivered it.")
    shop_updated_date = fields.Datetime(
        string="Changed in the shop", readonly=True, help="The order's last change in the shop."
    )
    state = fields.Selection(tracking=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)

    _external_uniq = models.UniqueIndex(
        "(backend_id, external_id)", "This order was already imported from this shop."
    )

    # --- ingest (called by shop.backend._import_orders, one page at a time) ----------

    @api.model
    def _store_page(self, backend, page, skip_concurrent=False):
        """Store a fetched page: new orders, changed orders back to pending, unmapped as failed.

        ``skip_concurrent`` (the scheduled import): an order another transaction stored
        since this one began (a pushed order) is taken as stored and the rest of the page
        is stored; without it, the unique key's ``UniqueViolation`` propagates (the push
        retries its request as a whole)."""
        ids = [o.external_id for o in page.orders] + [u.external_id for u in page.unmapped]
        existing = self._shop_stored_imports(backend, ids)
        for order in page.orders:
            vals = {
                "payload": json.dumps(order.raw, sort_keys=True, default=str),
                "shop_updated_date": _naive_utc(order.updated_at),
            }
            self._store_one(backend, order.external_id, vals, existing, skip_concurrent)
        for unmapped in page.unmapped:
            vals = {"payload": json.dumps(unmapped.raw, sort_keys=True, default=str)}
            record = self._store_one(backend, unmapped.external_id, vals, existing, skip_concurrent)
            if record:
                record._record_failure(PermanentError(unmapped.error))

    @api.model
    def _store_orders_counted(self, backend, orders):
        """Store ``orders`` of ``backend``; return how many there are (``count``), how
        many of them are ``new`` or ``changed`` (queued for import) and how many were
        imported already (``known``: unchanged, or pushed by the shop meanwhile, which is
        taken as stored rather than failing the store)."""
        ids = list({order.external_id for order in orders})
        before = {
            external_id: record.payload
            for external_id, record in self._shop_stored_imports(backend, ids).items()
        }
        self._store_page(backend, OrderPage(orders, None, False), skip_concurrent=True)
        # the same read as the store: a pushed order stays unseen by this transaction
        after = self._shop_stored_imports(backend, ids)
        new = len(after.keys() - before.keys())
        changed = sum(1 for key, payload in before.items() if after[key].payload != payload)
        return {
            "count": len(ids),
            "new": new,
            "changed": changed,
            "known": len(ids) - new - changed,
        }

    @api.model
    def _shop_stored_imports(self, backend, external_ids):
        """``{external id: import}``: the orders of ``backend`` this transaction sees stored."""
        return {
            r.external_id: r
            for r in self.search(
                Domain("backend_id", "=", backend.id) & Domain("external_id", "in", external_ids)
            )
        }

    def _store_one(self, backend, external_id, vals, existing, skip_concurrent=False):
        if external_id in existing and existing[external_id] is None:
            return self.browse()  # stored meanwhile by another transaction: see above
        record = existing.get(external_id)
        if record and (
            record.payload == vals["payload"]
            or (
                record.shop_updated_date
                and vals.get("shop_updated_date")
                and vals["shop_updated_date"] <= record.shop_updated_date
            )
        ):
            return self.browse()  # seen already: nothing changed
        vals.update(
            state="pending",
            attempt_count=0,
            last_error=False,
            next_attempt_date=fields.Datetime.now(),
        )
        if record:
            record.write(vals)
            return record
        vals = {"backend_id": backend.id, "external_id": external_id, **vals}
        record = self._shop_create_unless_stored(vals) if skip_concurrent else self.create(vals)
        existing[external_id] = record or None
        return record

    @api.model
    def _shop_create_unless_stored(self, vals):
        """Create the import of ``vals`` in a savepoint. When the unique key says another
        transaction stored the order since this one began (a pushed order: invisible to
        this transaction's snapshot, so neither comparable nor writable here), it counts
        as stored: return an empty recordset. Any other error propagates."""
        self.env.flush_all()  # the savepoint's rollback must undo this INSERT only
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                return self.create(vals)
        except UniqueViolation as exc:
            if exc.diag.constraint_name != self._external_uniq.full_name(self):
                raise
        _logger.info(
            "Order %s of shop %s was stored meanwhile by another transaction: taken as stored",
            vals["external_id"],
            vals["backend_id"],
        )
        return self.browse()

    # --- processing cron ----------------------------------------------------------

    @api.model
    def _cron_process(self, batch_size=50):
        """Process due imports as the work-unit mixin does (a row lock, one committed unit
        per order), with the lookups all orders of the batch share resolved once up front
        (``OrderImportBatch``): the commit after each order empties the ORM cache."""
        due = self._due_domain()
        cron = self.env["ir.cron"]
        records = self.search(due, limit=batch_size, order="id")
        batch = records._prefetch_batch()
        token = start_batch(batch)
        remaining = self.search_count(due)
        if remaining > len(records):  # a backlog: the other active lanes join in
            self._shop_trigger_processing()
        # commit before the first lock: under REPEATABLE READ, locking a record another
        # worker processed since this transaction's snapshot fails (serialization error)
        cron._commit_progress(remaining=remaining)
        try:
            for record in records.with_context(**{BATCH_KEY: token}):
                locked = record._shop_try_lock_for_update().filtered_domain(due)
                if locked:
                    locked._process()
                if not cron._commit_progress(1):
                    break
        finally:
            end_batch(token)
        if batch.mail_queued:  # once for the batch rather than after every order
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        self.env["shop.payment.account"]._shop_trigger_rematch(records)  # paid before imported

    @api.model
    def _shop_trigger_processing(self):
        """Wake every active lane of the order processing: the scheduled action and its
        copies. Odoo runs one scheduled action on one worker at a time, so a merchant with
        several workers activates the second lane or duplicates the action; the lanes share
        the due orders by row locks (``_cron_process``)."""
        lanes = (
            self.env["ir.cron"]
            .sudo()
            .search(
                Domain("model_id.model", "=", self._name)
                & Domain("code", "=like", "%._cron_process(%")
            )
        )
        for lane in lanes:  # ``_trigger`` takes one action
            lane._trigger()

    def _prefetch_batch(self):
        orders = {}
        for record in self:
            try:
                orders[record.id] = record._map_payload()
            except Exception:  # noqa: BLE001 - the order's own unit of work records why
                continue
        return OrderImportBatch.prefetch(self, orders)

    def action_open_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
        }

    def _prepare_done_vals(self, result):
        batch = running_batch(self.env)
        if batch is None or self.id in batch.with_activities:
            self.activity_unlink(["mail.mail_activity_data_todo"])
        return {"sale_order_id": result.id}

    def _failure_message(self, error):
        return self.env._("This order could not be imported: %s", error)

    def _notify_failed(self, error):
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Shop order import failed"),
            note=error,
            user_id=(self.backend_id.user_id or self.backend_id.create_uid or self.env.user).id,
        )

    def _map_payload(self):
        """The stored payload as a ShopOrder; a payload that cannot be mapped fails at once."""
        backend = self.backend_id
        mapper = PAYLOAD_MAPPERS.get(backend.backend_type)
        if backend._shop_is_csv():  # rows of a CSV file: read with the shop's column mapping
            mapper = backend._map_csv_payload
        if mapper is None:
            raise PermanentError(f"no payload mapping for {backend.backend_type}")
        try:
            return mapper(json.loads(self.payload or "{}"))
        except MAPPING_ERRORS as exc:
            if isinstance(exc, PermanentError):
                raise
            raise PermanentError(f"{type(exc).__name__}: {exc}") from exc

    def _shop_recent_orders(self, partner, days=7):
        """The customer's other orders of this shop of the last days, for duplicate checks."""
        since = fields.Datetime.now() - timedelta(days=days)
        others = self.search(
            Domain("backend_id", "=", self.backend_id.id)
            & Domain("id", "!=", self.id)
            # one join on the stored commercial partner, not child_of's search per level
            & Domain(
                "sale_order_id.partner_id.commercial_partner_id",
                "=",
                partner.commercial_partner_id.id,
            )
            & Domain("create_date", ">=", since),
            limit=50,
        )
        orders = []
        for other in others:
            try:
                orders.append(other._map_payload())
            except PermanentError:
                continue  # a failed import is listed as such; nothing to compare with
        return orders

    def _apply(self):
        """Create, update or cancel the sale order of this import; return it."""
        order = self._map_payload()
        sale_orders = self.env["sale.order"].with_company(self.backend_id.company_id)
        if self.sale_order_id:
            return self.sale_order_id._shop_apply_change(self, order)
        if order.status == "cancelled":
            return sale_orders.browse()  # cancelled before we ever saw it: nothing to do
        return sale_orders._shop_create_from_import(self, order)
