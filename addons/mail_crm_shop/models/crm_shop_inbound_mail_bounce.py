import logging

from odoo import fields, models

from ..services.dsn import NotADsnError, parse_dsn

_logger = logging.getLogger(__name__)


class CrmShopInboundMail(models.Model):
    """Mails of a bounce mailbox update the delivery tracking instead of opening cases."""

    _inherit = "crm.shop.inbound.mail"  # pylint: disable=consider-merging-classes-inherited

    def _apply(self):
        if not self.mailbox_id.is_bounce_mailbox:
            return super()._apply()
        try:
            dsns = parse_dsn(self._get_raw())
        except NotADsnError:
            return super()._apply()  # a person wrote to the bounce address: a case
        if not self._apply_bounces(dsns):
            return super()._apply()  # nothing of ours matched: a person looks at it
        return self.env["crm.shop.case"]

    def _apply_bounces(self, dsns):
        """Record each Dsn on its tracking line; return whether any line matched."""
        Tracking = self.env["crm.shop.mail.tracking"].sudo()
        now = fields.Datetime.now()
        matched = False
        for dsn in dsns:
            lines = Tracking._match_dsn_lines(dsn, now)
            if not lines:
                _logger.info("Bounce %s: no tracked mail for %s", self.id, dsn.final_recipient)
                continue
            matched = True
            lines._apply_dsn(dsn, now)
            if dsn.action == "failed" and dsn.hard:
                self._apply_hard_bounce(lines)
        return matched

    def _apply_hard_bounce(self, lines):
        Partner = self.env["res.partner"].sudo()
        for line in lines:
            partners = line.partner_id or Partner.search([("email_normalized", "=", line.email)])
            partners._crm_shop_record_hard_bounce()
            line.tracking_id._schedule_bounce_activity(line)
