import logging

from odoo import api, models

_logger = logging.getLogger(__name__)


class IrMailServer(models.Model):
    """Archive (GoBD) the exact bytes of every mail handed to SMTP, system mails included."""

    _inherit = "ir.mail_server"

    @api.model
    def send_email(self, message, *args, **kwargs):
        message_id = super().send_email(message, *args, **kwargs)
        if self.pool._init:  # registry loading: nothing was sent
            return message_id
        # ``super`` prepared the message in place (From, Bcc removed...): these are the
        # bytes the SMTP server received. Archived only once sent, so a failed delivery
        # retried later is not archived twice.
        try:
            with self.env.cr.savepoint():
                self.env["crm.shop.archive.entry"]._archive_raw(message.as_bytes(), "out")
        except Exception:  # unit of work: the mail is out, never report it failed
            _logger.exception("GoBD archive: sent mail %s could not be archived", message_id)
        return message_id
