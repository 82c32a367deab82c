"""Alias look-ups of the mail parser, answered once per batch of inbound mails.

``mail.thread.message_parse`` asks for the alias domains and the aliases among the
recipients of every mail (two or three queries each). While ``crm.shop.inbound.mail``
processes a batch (its records carry the batch token in their context), the answers are
kept in the batch: mails to the same recipients ask once. A batch lasts one cron run, as
its other routing answers do.
"""

from odoo import api, models
from odoo.fields import Domain

from .crm_shop_inbound_mail import running_routing_batch


class MailAliasDomain(models.Model):
    _inherit = "mail.alias.domain"

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        batch = running_routing_batch(self.env)
        if batch is None or offset or limit or kwargs or not Domain(domain).is_true():
            return super()._search(domain, offset, limit, order, **kwargs)
        key = ("alias_domain_ids", self.env.uid, self.env.su, order)
        if key not in batch.extras:
            query = super()._search(domain, offset, limit, order, **kwargs)
            batch.extras[key] = tuple(query)
        return self.browse(batch.extras[key])._as_query(ordered=True)

    @api.model
    def _find_aliases(self, email_list):
        batch = running_routing_batch(self.env)
        if batch is None:
            return super()._find_aliases(email_list)
        key = ("aliases", self.env.uid, self.env.su, tuple(email_list))
        if key not in batch.extras:
            batch.extras[key] = tuple(super()._find_aliases(email_list))
        return list(batch.extras[key])
