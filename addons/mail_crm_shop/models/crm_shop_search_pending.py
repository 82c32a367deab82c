"""Source records whose search index entry is still to be written (off the mail hot path).

Mail ingestion creates cases, mails and attachments with the context key
``crm_shop_search_defer``: instead of extracting text and writing the index inside the
same ``create``, each source is queued here (in the same transaction, so a committed mail
is always either indexed or queued). ``crm.shop.search.document._cron_index`` drains the
queue in batches; two workers never take the same rows (``FOR UPDATE SKIP LOCKED``).
"""

from odoo import api, fields, models
from odoo.tools import SQL

PRECOMMIT_KEY = "mail_crm_shop.search_pending"


class CrmShopSearchPending(models.Model):
    _name = "crm.shop.search.pending"
    _description = "Team inbox record waiting for the search index"
    _order = "id"
    _log_access = False

    res_model = fields.Char(string="Source model", required=True, readonly=True)
    res_id = fields.Integer(string="Source record", required=True, readonly=True)

    _source_uniq = models.UniqueIndex("(res_model, res_id)")

    @api.model
    def _queue(self, res_model, res_ids):
        """Queue ``res_ids`` of ``res_model`` for indexing (once, whoever queues them).

        The rows are written with one statement when the transaction is flushed (before
        every savepoint release and commit); a rolled back savepoint drops them with the
        records they name."""
        res_ids = {int(res_id) for res_id in res_ids if res_id}
        if not res_ids:
            return
        precommit = self.env.cr.precommit
        if PRECOMMIT_KEY not in precommit.data:
            precommit.add(self._write_queued)
        precommit.data.setdefault(PRECOMMIT_KEY, {}).setdefault(res_model, set()).update(res_ids)

    @api.model
    def _write_queued(self):
        queued = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, {})
        rows = sorted((model, res_id) for model, ids in queued.items() for res_id in ids)
        if not rows:
            return
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (res_model, res_id) "
                "SELECT * FROM unnest(%s::varchar[], %s::int[]) ON CONFLICT DO NOTHING",
                SQL.identifier(self._table),
                [model for model, _res_id in rows],
                [res_id for _model, res_id in rows],
            )
        )

    @api.model
    def _take(self, limit):
        """Lock and return up to ``limit`` queued ``(id, res_model, res_id)``, oldest first;
        rows another worker holds are skipped."""
        self.env.cr.execute(
            SQL(
                "SELECT id, res_model, res_id FROM %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                SQL.identifier(self._table),
                int(limit),
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _done(self, ids):
        if ids:
            self.env.cr.execute(
                SQL("DELETE FROM %s WHERE id = ANY(%s)", SQL.identifier(self._table), list(ids))
            )
