"""Full-text search glue of the case: its own text in the index, the ``fulltext`` filter."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from ..services.fulltext import build_tsquery, html_to_text, match_sql

CASE_SEARCH_FIELDS = ("number", "name", "email_from", "description")


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

    def _index_search_documents(self):
        entries = {}
        for case in self:
            parts = (case.number, case.name, case.email_from, html_to_text(case.description or ""))
            entries[case.id] = (case.id, "case", "\n".join(p for p in parts if p and p != "/"))
        self.env["crm.shop.search.document"]._index_sources(self._name, entries)
