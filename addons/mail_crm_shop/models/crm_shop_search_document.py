"""Full-text search index of the team inbox: one row per searchable source record.

Sources (a case, a mail or internal note on a case, a phone note, an attachment's text)
write their text here from their ``create``/``write``/``unlink``; PostgreSQL keeps the
``tsv`` column (German and English stemming) and its GIN index current.
"""

import logging

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_index

from ..services.fulltext import (
    build_tsquery,
    headline_sql,
    highlight_to_html,
    match_sql,
    rank_sql,
    ranked_search_sql,
)

_logger = logging.getLogger(__name__)

MAX_TEXT = 200_000  # characters of one document; the tsvector of both configs stays < 1 MB
SEARCH_KINDS = [
    ("case", "Case"),
    ("mail", "Mail"),
    ("note", "Internal note"),
    ("phone_note", "Phone note"),
    ("attachment", "Attachment"),
]
# source models, in backfill order; each implements ``_index_search_documents()``
SOURCE_MODELS = ("crm.shop.case", "crm.shop.phone.note", "mail.message", "ir.attachment")
BACKFILL_PARAM = "mail_crm_shop.search_backfill.%s"
# context key: queue the sources (crm.shop.search.pending) instead of indexing them now
DEFER_KEY = "crm_shop_search_defer"


class CrmShopSearchDocument(models.Model):
    _name = "crm.shop.search.document"
    _description = "Team inbox search index entry"
    _order = "id desc"

    res_model = fields.Char(string="Source model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Source record", model_field="res_model", required=True, readonly=True
    )
    case_id = fields.Many2one(
        "crm.shop.case", required=True, index=True, ondelete="cascade", readonly=True
    )
    kind = fields.Selection(SEARCH_KINDS, required=True, readonly=True)
    text = fields.Text(readonly=True)

    _source_uniq = models.UniqueIndex("(res_model, res_id)")
    _create_date_idx = models.Index("(create_date)")

    def init(self):
        cr = self.env.cr
        if not column_exists(cr, self._table, "tsv"):
            cr.execute(
                SQL(
                    "ALTER TABLE %s ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
                    "to_tsvector('german'::regconfig, coalesce(text, '')) || "
                    "to_tsvector('english'::regconfig, coalesce(text, ''))) STORED",
                    SQL.identifier(self._table),
                )
            )
        create_index(cr, f"{self._table}_tsv_gin", self._table, ["tsv"], method="gin")

    # --- maintenance, called by the sources --------------------------------------

    @api.model
    def _index_sources(self, res_model, entries):
        """Store the text of source records: ``entries`` maps ``res_id`` to
        ``(case_id, kind, text)``, or to ``None`` when the record is not searchable.

        With the context key ``crm_shop_search_defer`` the sources are only queued for
        ``_cron_index`` (mail ingestion: the index is written off the hot path)."""
        if not entries:
            return
        if self.env.context.get(DEFER_KEY):
            self._defer_sources(res_model, entries)
            return
        documents = self.sudo()
        existing = documents.search(
            [("res_model", "=", res_model), ("res_id", "in", list(entries))]
        )
        by_res_id = {doc.res_id: doc for doc in existing}
        stale, new = documents.browse(), []
        for res_id, entry in entries.items():
            doc = by_res_id.get(res_id, documents.browse())
            text = ((entry and entry[2]) or "").replace("\x00", "").strip()[:MAX_TEXT]
            if not text:
                stale |= doc
                continue
            vals = {"case_id": entry[0], "kind": entry[1], "text": text}
            if doc:
                doc.write(vals)
            else:
                new.append({"res_model": res_model, "res_id": res_id, **vals})
        stale.unlink()
        documents.create(new)

    @api.model
    def _drop_sources(self, res_model, res_ids):
        if res_ids:
            self.sudo().search([("res_model", "=", res_model), ("res_id", "in", res_ids)]).unlink()

    @api.model
    def _defer_sources(self, res_model, res_ids):
        """Queue source records for ``_cron_index`` (same transaction as their change)."""
        self.env["crm.shop.search.pending"].sudo()._queue(res_model, res_ids)

    @api.model
    def _is_deferred(self):
        return bool(self.env.context.get(DEFER_KEY))

    # --- deferred indexing ----------------------------------------------------------

    @api.model
    def _cron_index(self, batch_size=500):
        """Index the queued source records, ``batch_size`` per committed step.

        Rows are taken with ``FOR UPDATE SKIP LOCKED``: several workers drain the queue
        together without indexing a record twice. A step that fails is indexed record
        by record; a record that still fails stays unsearchable (logged), as in the
        backfill.
        """
        cron = self.env["ir.cron"]
        Pending = self.env["crm.shop.search.pending"].sudo()
        cron._commit_progress(remaining=Pending.search_count([]))
        while True:
            rows = Pending._take(batch_size)
            if not rows:
                return
            self._index_queued(rows)
            Pending._done([row[0] for row in rows])
            if not cron._commit_progress(len(rows)):
                return

    @api.model
    def _index_queued(self, rows):
        """Index ``[(pending_id, res_model, res_id)]`` in one go per source model."""
        by_model = {}
        for _pending_id, res_model, res_id in rows:
            by_model.setdefault(res_model, []).append(res_id)
        indexer = self.with_context(**{DEFER_KEY: False})
        for res_model, res_ids in by_model.items():
            if res_model not in self.env:
                continue
            records = indexer.env[res_model].sudo().browse(res_ids).exists()
            try:
                with self.env.cr.savepoint():
                    records._index_search_documents()
            except Exception:  # noqa: BLE001 - one bad record must not block the batch
                for record in records:
                    indexer._backfill_one(record)

    # --- ranked search ------------------------------------------------------------

    @api.model
    def _ranked_cases(self, user_input, limit=80, window=1000):
        """Return ``[(case_id, rank, kind, snippet_html)]`` of the cases the current user
        may read, best first: each case ranked by its best matching document.

        The work stays bounded as in ``benchmarks/search.py``: the pure
        ``ranked_search_sql`` picks up to ``window`` candidates (for common words the
        newest); only when the user may read too few of them (private cases, other
        queues) are all matches in the user's cases ranked.
        """
        query = build_tsquery(user_input)
        if query.empty:
            return []
        self.env["crm.shop.case"].check_access("read")
        self.flush_model(["case_id", "kind", "text"])
        sql, params = ranked_search_sql(self._table, "tsv", query, limit=window, window=window)
        self.env.cr.execute(SQL(sql, *params))  # fragments: the pure layer's; values bound
        candidates = [row[0] for row in self.env.cr.fetchall()]
        hits = self._best_per_case(query, candidates, limit) if candidates else []
        if len(hits) < limit and len(candidates) >= window:
            hits = self._best_per_case(query, None, limit)
        snippets = self._snippets(query, [doc_id for _case, doc_id, _rank in hits])
        return [
            (case_id, rank, snippets[doc_id][0], snippets[doc_id][1])
            for case_id, doc_id, rank in hits
        ]

    @api.model
    def _best_per_case(self, query, doc_ids, limit):
        """Return ``[(case_id, doc_id, rank)]``: the best document of each readable case,
        among ``doc_ids`` (``None``: all matching documents)."""
        match, match_params = match_sql("d.tsv", query)
        rank, rank_params = rank_sql("d.tsv", query)
        best = SQL(
            "SELECT DISTINCT ON (d.case_id) d.case_id, d.id, %s AS rank "
            "FROM crm_shop_search_document d WHERE %s AND d.case_id IN %s AND %s "
            "ORDER BY d.case_id, rank DESC, d.id DESC",
            SQL(rank, *rank_params),
            SQL(match, *match_params),
            self.env["crm.shop.case"]._search([]).subselect(),  # record rules: private cases
            SQL("d.id IN %s", tuple(doc_ids)) if doc_ids is not None else SQL("TRUE"),
        )
        self.env.cr.execute(
            SQL(
                "SELECT case_id, id, rank FROM (%s) b ORDER BY rank DESC, case_id DESC LIMIT %s",
                best,
                int(limit),
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _snippets(self, query, doc_ids):
        """Return ``{doc_id: (kind, escaped html with <mark>)}``."""
        if not doc_ids:
            return {}
        headline, params = headline_sql("text", query)
        self.env.cr.execute(
            SQL(
                "SELECT id, kind, %s FROM crm_shop_search_document WHERE id IN %s",
                SQL(headline, *params),
                tuple(doc_ids),
            )
        )
        return {row[0]: (row[1], highlight_to_html(row[2])) for row in self.env.cr.fetchall()}

    # --- backfill -----------------------------------------------------------------

    @api.model
    def _start_backfill(self):
        """Index all existing data again (in batches, by the backfill cron)."""
        params = self.env["ir.config_parameter"].sudo()
        for model in SOURCE_MODELS:
            params.set_param(BACKFILL_PARAM % model, "0")
        cron = self.env.ref("mail_crm_shop.ir_cron_search_backfill").sudo()
        cron.active = True
        cron._trigger()

    @api.model
    def _backfill_domain(self, model):
        if model in ("mail.message", "ir.attachment"):
            return Domain("model" if model == "mail.message" else "res_model", "=", "crm.shop.case")
        return Domain.TRUE

    @api.model
    def _cron_backfill(self, batch_size=200):
        """Index the records of every source model past its cursor, one batch per run;
        deactivate the cron once everything is indexed."""
        cron, params = self.env["ir.cron"], self.env["ir.config_parameter"].sudo()
        pending = {}
        for model in SOURCE_MODELS:
            last = int(params.get_param(BACKFILL_PARAM % model, "0") or 0)
            pending[model] = self._backfill_domain(model) & Domain("id", ">", last)
        remaining = sum(self.env[m].sudo().search_count(d) for m, d in pending.items())
        if not remaining:
            cron._commit_progress(deactivate=True)
            return
        cron._commit_progress(remaining=remaining)
        for model, domain in pending.items():
            done, stop = None, False
            for record in self.env[model].sudo().search(domain, order="id", limit=batch_size):
                self._backfill_one(record)
                done, batch_size = record.id, batch_size - 1
                stop = not cron._commit_progress(1) or not batch_size
                if stop:
                    break
            if done:  # a crash before this re-indexes a few records: harmless
                params.set_param(BACKFILL_PARAM % model, str(done))
            if stop:
                return

    @api.model
    def _backfill_one(self, record):
        try:
            with self.env.cr.savepoint():
                record._index_search_documents()
        except Exception:  # unit of work: the source stays, only unsearchable
            _logger.exception("Search index: %s %s could not be indexed", record._name, record.id)
