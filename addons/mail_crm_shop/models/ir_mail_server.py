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
        raw = message.as_bytes()
        record = self._crm_shop_archive_record(message["Message-Id"])
        try:
            with self.env.cr.savepoint():
                self.env["crm.shop.archive.entry"]._archive_raw(raw, "out", record=record)
        except Exception as exc:  # noqa: BLE001 - the mail is out: keep it for a retry
            _logger.warning("GoBD archive: sent mail %s kept for a retry: %s", message_id, exc)
            self._crm_shop_park(raw, record, exc)
        return message_id

    @api.model
    def _crm_shop_park(self, raw, record, error):
        try:
            with self.env.cr.savepoint():
                self.env["crm.shop.archive.pending"]._park(raw, "out", record=record, error=error)
        except Exception:  # the mail is out: never report it failed
            _logger.exception("GoBD archive: sent mail could not be kept for a retry")

    @api.model
    def _crm_shop_archive_record(self, message_id):
        """The document a sent mail belongs to (the case of a reply), by its Message-ID.

        A ``mail.mail`` shares its ``mail.message`` (model, res_id, Message-ID), which
        exists while the mail is being sent.
        """
        if not message_id:
            return None
        found = (
            self.env["mail.message"]
            .sudo()
            .search([("message_id", "=", message_id), ("model", "!=", False)], limit=1)
        )
        if found.res_id and found.model in self.env:
            return self.env[found.model].sudo().browse(found.res_id).exists() or None
        return None
