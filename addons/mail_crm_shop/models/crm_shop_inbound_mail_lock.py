"""The lock of a stored mail reads what its processing reads next, in one round trip.

``crm.shop.inbound.mail._cron_process`` commits after every mail, which empties the
cache: each mail's transaction starts by locking the mail (``SKIP LOCKED``), then reads
the mail, its mailbox and the mailbox's queue, and asks the database for the
transaction's timestamp (``cr.now()``, for ``create_date``): four round trips, done
here by the locking query alone.
"""

from odoo import models, sql_db
from odoo.tools import SQL

from .crm_shop_inbound_mail import running_routing_batch

# what the lock of a mail reads with it (model, alias in the query), see _lock_and_read
READ_WITH_LOCK = (
    ("crm.shop.inbound.mail", "mail"),
    ("crm.shop.mailbox", "mailbox"),
    ("crm.shop.queue", "queue"),
)


class CrmShopInboundMail(models.Model):
    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def try_lock_for_update(self, *, allow_referencing=False, limit=None):
        """As the standard method. For the superuser (the cron), the locking query also
        reads what processing reads right after: the stored fields of the mails, of
        their mailbox and of its queue, and the transaction's timestamp. One round trip
        instead of four; the values are those of the transaction's snapshot (REPEATABLE
        READ), as separate reads would give, and values in cache are kept."""
        ids = self._ids
        new_records = not all(isinstance(i, int) for i in ids)
        if limit is not None or not ids or new_records or not self.env.su:
            return super().try_lock_for_update(allow_referencing=allow_referencing, limit=limit)
        valid_ids = set(self._lock_and_read(allow_referencing))
        return self.browse(i for i in ids if i in valid_ids)

    def _lock_and_read(self, allow_referencing):
        """Lock the rows of ``self`` not held by others (``SKIP LOCKED``), read them with
        their mailbox and queue into the cache; return the locked ids."""
        terms, layout = self._lock_and_read_columns()
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM %s AS mail"
                " LEFT JOIN %s AS mailbox ON mailbox.id = mail.mailbox_id"
                " LEFT JOIN %s AS queue ON queue.id = mailbox.queue_id"
                " WHERE mail.id IN %s FOR %s OF mail SKIP LOCKED",
                SQL(", ").join(terms),
                SQL.identifier(self._table),
                SQL.identifier(self.env["crm.shop.mailbox"]._table),
                SQL.identifier(self.env["crm.shop.queue"]._table),
                tuple(self.ids),
                SQL("NO KEY UPDATE" if allow_referencing else "UPDATE"),
            )
        )
        if not rows:
            return []
        values = iter(list(zip(*rows, strict=True)))
        for model_name, columns in layout:
            record_ids = next(values)
            present = [index for index, id_ in enumerate(record_ids) if id_]
            records = self.env[model_name].browse(record_ids[index] for index in present)
            for field in columns:  # as _fetch_query: values in cache are kept
                column = next(values)
                field._insert_cache(records, [column[index] for index in present])
        cr = self.env.cr
        if isinstance(cr, sql_db.Cursor) and cr._now is None:
            cr._now = next(values)[0]  # what cr.now() would ask the database for
        return [row[0] for row in rows]

    def _lock_and_read_columns(self):
        """The selected columns of ``_lock_and_read`` and the fields they fill, per
        model; the same for every mail of a running batch, so built once for it."""
        batch = running_routing_batch(self.env)
        key = ("lock_and_read_columns", self.env.lang)
        if batch is not None and key in batch.extras:
            return batch.extras[key]
        terms, layout = [], []
        for model_name, alias in READ_WITH_LOCK:
            model = self.env[model_name]
            columns = [
                field
                for field in model._determine_fields_to_fetch(None)
                if field.store and field.column_type
            ]
            terms.append(SQL.identifier(alias, "id"))
            terms.extend(model._field_to_sql(alias, field.name) for field in columns)
            layout.append((model_name, columns))
        terms.append(SQL("now() AT TIME ZONE 'UTC'"))
        if batch is not None:
            batch.extras[key] = (terms, layout)
        return terms, layout
