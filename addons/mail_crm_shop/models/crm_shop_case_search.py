"""Full-text search glue of the case: its own text in the index, the ``fulltext`` filter."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from ..services.fulltext import build_tsquery, html_to_text, match_sql, rank_sql

CASE_SEARCH_FIELDS = ("number", "name", "email_from", "description")
# set by the "Full text" field of the case search bar (its value): the list comes best first
RANK_CONTEXT_KEY = "crm_shop_fulltext_rank"


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"

    fulltext = fields.Char(
        string="Full text",
        compute="_compute_fulltext",
        search="_search_fulltext",
        help="Words in the case, its mails, notes, phone notes and attachments.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        cases = super().create(vals_list)
        cases._index_search_documents()
        return cases

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in CASE_SEARCH_FIELDS):
            self._index_search_documents()
        return result

    def _compute_fulltext(self):
        self.fulltext = False

    def _search_fulltext(self, operator, value):
        if operator == "in" and all(isinstance(v, str) for v in value):
            value = " or ".join(value)
        elif operator not in ("ilike", "like", "=ilike", "=like") or not isinstance(value, str):
            return NotImplemented
        query = build_tsquery(value)
        if query.empty:
            raise UserError(self.env._("Type at least one word to search the full text for."))
        self.env["crm.shop.search.document"].flush_model(["case_id", "text"])
        match, params = match_sql("tsv", query)
        return Domain(
            "id",
            "in",
            SQL(
                "(SELECT case_id FROM crm_shop_search_document WHERE %s)",
                SQL(match, *params),  # the user's text only travels as a parameter
            ),
        )

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        """Best first while the list is filtered by "Full text" (its view context).

        Only the default order is replaced: a column the user sorts by wins, and counts
        (no order) stay plain. Each case ranks by its best matching search document, as
        on the Search screen; ties keep the usual order.
        """
        query = super()._search(domain, offset=offset, limit=limit, order=order, **kwargs)
        rank = self._fulltext_rank_sql(query) if order and order == self._order else None
        if rank is not None and query.order is not None:
            query.order = SQL("%s DESC NULLS LAST, %s", rank, query.order)
        return query

    @api.model
    def _fulltext_rank_sql(self, query):
        """``SQL`` of the rank of the case row of ``query``, or None without a search."""
        value = self.env.context.get(RANK_CONTEXT_KEY)
        if isinstance(value, list | tuple):
            value = " or ".join(v for v in value if isinstance(v, str))
        if not isinstance(value, str):
            return None
        tsquery = build_tsquery(value)
        if tsquery.empty:
            return None
        self.env["crm.shop.search.document"].flush_model(["case_id", "text"])
        match, match_params = match_sql("d.tsv", tsquery)
        rank, rank_params = rank_sql("d.tsv", tsquery)
        return SQL(
            "(SELECT max(%s) FROM crm_shop_search_document d WHERE d.case_id = %s AND %s)",
            SQL(rank, *rank_params),  # the user's text only travels as a parameter
            SQL.identifier(query.table, "id"),
            SQL(match, *match_params),
        )

    def _index_search_documents(self):
        entries = {}
        for case in self:
            parts = (case.number, case.name, case.email_from, html_to_text(case.description or ""))
            entries[case.id] = (case.id, "case", "\n".join(p for p in parts if p and p != "/"))
        self.env["crm.shop.search.document"]._index_sources(self._name, entries)
