"""Full-text search glue: mails and internal notes on cases go to the search index."""

from odoo import api, models

from ..services.fulltext import html_to_text
from .crm_shop_inbound_mail import running_routing_batch

# batch.extras key: the (model, res_id) threads a message was created on while the batch ran
THREADS_WITH_MESSAGES = "threads_with_messages"
ANY_THREAD = ("*", 0)
MESSAGE_SEARCH_FIELDS = ("body", "subject", "model", "res_id", "subtype_id", "message_type")


class MailMessage(models.Model):
    _inherit = "mail.message"

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        messages._index_search_documents()
        batch = running_routing_batch(self.env)
        if batch is not None:  # lets the gateway skip the parent look-up on a new case
            threads = batch.extras.setdefault(THREADS_WITH_MESSAGES, set())
            context = self.env.context
            for vals in vals_list:
                model = vals.get("model") or context.get("default_model")
                res_id = vals.get("res_id") or context.get("default_res_id")
                # a thread not known from the values: no case of the batch is sure
                threads.add((model, res_id) if model and res_id else ANY_THREAD)
        return messages

    def write(self, vals):
        result = super().write(vals)
        if "model" in vals or "res_id" in vals:  # moved off a case: out of the index
            moved = self.filtered(lambda m: m.model != "crm.shop.case" or not m.res_id)
            self.env["crm.shop.search.document"]._drop_sources(self._name, moved.ids)
        if any(name in vals for name in MESSAGE_SEARCH_FIELDS):
            self._index_search_documents()
        return result

    def unlink(self):
        self.env["crm.shop.search.document"]._drop_sources(self._name, self.ids)
        return super().unlink()

    def _index_search_documents(self):
        Document = self.env["crm.shop.search.document"]
        if Document._is_deferred():  # mail ingestion: _cron_index sorts them out later
            Document._defer_sources(self._name, self.ids)
            return
        on_cases = self.filtered(lambda m: m.model == "crm.shop.case" and m.res_id)
        if not on_cases:
            return
        phone_note = self.env.ref("mail_crm_shop.mt_phone_note", raise_if_not_found=False)
        entries = {}
        for message in on_cases.sudo():
            if phone_note and message.subtype_id == phone_note:
                entries[message.id] = None  # the phone note itself is indexed
                continue
            internal = message.is_internal or message.subtype_id.internal
            text = "\n".join(p for p in (message.subject, html_to_text(message.body or "")) if p)
            entries[message.id] = (message.res_id, "note" if internal else "mail", text)
        Document._index_sources(self._name, entries)
