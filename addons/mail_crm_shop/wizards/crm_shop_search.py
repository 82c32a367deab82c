"""The "Search" screen of the team inbox: cases ranked by full-text relevance."""

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..models.crm_shop_search_document import SEARCH_KINDS
from ..services.fulltext import build_tsquery

RESULT_LIMIT = 80


class CrmShopSearch(models.TransientModel):
    _name = "crm.shop.search"
    _description = "Team inbox full-text search"

    query = fields.Char(
        string="Search for",
        help='All words must appear; "quoted phrase", -exclude, or. '
        "German and English word forms are found (Rechnungen finds Rechnung).",
    )
    line_ids = fields.One2many("crm.shop.search.line", "search_id", string="Results")
    result_count = fields.Integer(readonly=True)
    searched = fields.Boolean(readonly=True)

    def action_search(self):
        self.ensure_one()
        if build_tsquery(self.query or "").empty:
            raise UserError(self.env._("Type at least one word to search for."))
        hits = self.env["crm.shop.search.document"]._ranked_cases(self.query, RESULT_LIMIT)
        self.write(
            {
                "result_count": len(hits),
                "searched": True,
                "line_ids": [Command.clear()]
                + [
                    Command.create(
                        {"case_id": case_id, "rank": rank, "kind": kind, "snippet": snippet}
                    )
                    for case_id, rank, kind, snippet in hits
                ],
            }
        )
        return self._reopen()

    def action_rebuild_index(self):
        if not self.env.user.has_group("mail_crm_shop.group_manager"):
            raise UserError(self.env._("Only team inbox managers can rebuild the search index."))
        self.env["crm.shop.search.document"]._start_backfill()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("The search index is being rebuilt in the background."),
                "next": self._reopen(),
            },
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }


class CrmShopSearchLine(models.TransientModel):
    _name = "crm.shop.search.line"
    _description = "Team inbox search result"
    _order = "rank desc, id"

    search_id = fields.Many2one("crm.shop.search", required=True, ondelete="cascade")
    case_id = fields.Many2one("crm.shop.case", required=True, ondelete="cascade")
    state = fields.Selection(related="case_id.state")
    user_id = fields.Many2one(related="case_id.user_id")
    rank = fields.Float(string="Relevance", digits=(3, 3))
    kind = fields.Selection(SEARCH_KINDS, string="Found in")
    snippet = fields.Html(sanitize=False, readonly=True)  # escaped by highlight_to_html

    def action_open_case(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.shop.case",
            "res_id": self.case_id.id,
            "view_mode": "form",
            "target": "current",
        }
