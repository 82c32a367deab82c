"""Full-text search glue: the text of attachments on cases (PDF, text, HTML)."""

from odoo import api, models

from ..services.fulltext import extract_text

ATTACHMENT_SEARCH_FIELDS = ("res_model", "res_id", "datas", "raw", "name", "mimetype")
MAX_EXTRACT_BYTES = 20 * 1024 * 1024  # bigger files are found by their name only
MAX_EXTRACT_CHARS = 200_000


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.model_create_multi
    def create(self, vals_list):
        attachments = super().create(vals_list)
        if any(vals.get("res_model") == "crm.shop.case" for vals in vals_list):
            attachments._index_search_documents()
        return attachments

    def write(self, vals):
        was_on_case = self.filtered(lambda a: a.res_model == "crm.shop.case")
        result = super().write(vals)
        if any(name in vals for name in ATTACHMENT_SEARCH_FIELDS):
            on_case = self.filtered(lambda a: a.res_model == "crm.shop.case")
            (on_case | was_on_case)._index_search_documents()
        return result

    def unlink(self):
        self.env["crm.shop.search.document"]._drop_sources(self._name, self.ids)
        return super().unlink()

    def _index_search_documents(self):
        Document = self.env["crm.shop.search.document"]
        if Document._is_deferred():  # mail ingestion: text extracted later by _cron_index
            Document._defer_sources(self._name, self.ids)
            return
        entries = {}
        for attachment in self.sudo():
            if attachment.res_model != "crm.shop.case" or not attachment.res_id:
                entries[attachment.id] = None
                continue
            text = attachment.name or ""
            if attachment.type == "binary" and attachment.file_size <= MAX_EXTRACT_BYTES:
                extracted = extract_text(
                    attachment.raw or b"", attachment.mimetype, max_chars=MAX_EXTRACT_CHARS
                )
                text = "\n".join(p for p in (text, extracted.text) if p)
            entries[attachment.id] = (attachment.res_id, "attachment", text)
        Document._index_sources(self._name, entries)
