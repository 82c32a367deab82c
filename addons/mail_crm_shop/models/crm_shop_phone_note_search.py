"""Full-text search glue of phone notes (their mail on the case is not indexed twice)."""

from odoo import api, models

PHONE_NOTE_SEARCH_FIELDS = ("caller", "phone", "note", "case_id")


class CrmShopPhoneNote(models.Model):
    _inherit = "crm.shop.phone.note"

    @api.model_create_multi
    def create(self, vals_list):
        notes = super().create(vals_list)
        notes._index_search_documents()
        return notes

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in PHONE_NOTE_SEARCH_FIELDS):
            self._index_search_documents()
        return result

    def unlink(self):
        self.env["crm.shop.search.document"]._drop_sources(self._name, self.ids)
        return super().unlink()

    def _index_search_documents(self):
        entries = {
            note.id: (
                note.case_id.id,
                "phone_note",
                "\n".join(p for p in (note.caller, note.phone, note.note) if p),
            )
            for note in self
        }
        self.env["crm.shop.search.document"]._index_sources(self._name, entries)
