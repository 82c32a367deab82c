import base64
import hashlib
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.confirmation_inbox import poll_confirmations
from ..services.confirmation import Confirmation, parse_confirmation_file

_logger = logging.getLogger(__name__)


class ShippingExchangeRecord(models.Model):
    """Confirmations coming back (files, mails, the portal) and the watchdog for those
    that do not come."""

    _inherit = "shipping.exchange.record"

    confirmation_count = fields.Integer(string="Confirmed deliveries", readonly=True)

    @api.model
    def _cron_fetch_confirmations(self, batch_size=50):
        """Fetch each file profile's confirmation folder; one commit per file."""
        profiles = self.env["shipping.exchange.profile"].search(
            [("transport", "in", ["ftp", "ftps", "sftp"]), ("confirmation_dir", "!=", False)]
        )
        for profile in profiles:
            try:
                with profile._get_transport_adapter() as folder:
                    poll_confirmations(
                        folder,
                        lambda name, data, p=profile: parse_confirmation_file(
                            name, data, p._csv_mapping()
                        ),
                        lambda outcome, p=profile: self._store_confirmation_file(
                            p, outcome.name, outcome.content, outcome.error, commit=True
                        ),
                        limit=batch_size,
                    )
            except Exception as exc:  # noqa: BLE001 - backend-wide failure, recorded
                _logger.info("Confirmations of profile %s: %s", profile.id, exc)
                profile.last_error = f"{type(exc).__name__}: {exc}"
            else:
                profile.last_error = False
            self.env["ir.cron"]._commit_progress(1)

    @api.model
    def _store_confirmation_file(self, profile, name, content, error="", commit=False):
        """Keep the file as an incoming record (once per content) and apply it.

        The same content again returns the record of its first arrival: nothing twice.
        ``commit``: from the cron only, before the remote file is moved.
        """
        digest = hashlib.sha256(content or f"unreadable:{name}:{error}".encode()).hexdigest()
        known = Domain("profile_id", "=", profile.id) & Domain("direction", "=", "in")
        existing = self.search(known & Domain("file_hash", "=", digest), limit=1)
        if existing:
            return existing
        record = self.create(
            {
                "profile_id": profile.id,
                "direction": "in",
                "file_name": name,
                "file_hash": digest,
                "state": "pending",
                "last_error": error or False,
            }
        )
        if content:
            record.payload_attachment_ids = self._attach_raw(record, name, content)
        record._process_inbound()
        if commit:
            self.env["ir.cron"]._commit_progress(1)
        return record

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A confirmation mail to the profile's alias: each attachment is a file."""
        values = dict(custom_values or {})
        profile = self.env["shipping.exchange.profile"].browse(values.get("profile_id"))
        if not profile.exists():
            return super().message_new(msg_dict, custom_values)
        records = self.browse()
        for attachment in msg_dict.get("attachments") or []:
            content = attachment.content
            if isinstance(content, str):
                content = content.encode()
            records |= self._store_confirmation_file(profile, attachment.fname, content)
        if not records:
            subject = msg_dict.get("subject") or msg_dict.get("message_id") or ""
            records = self._store_confirmation_file(
                profile,
                subject[:200] or "mail",
                b"",
                self.env._("The mail has no confirmation file attached."),
            )
        return records[:1]

    @api.model
    def _attach_raw(self, record, name, content):
        return self.env["ir.attachment"].create(
            {"name": name, "raw": content, "res_model": self._name, "res_id": record.id}
        )

    @api.private
    def _process_inbound(self):
        for record in self:
            problems = record._apply_confirmation_file()
            if problems:
                error = "\n".join(problems)
                record.write({"state": "failed", "last_error": error, "next_attempt_date": False})
                record._notify_failed(error)
            else:
                record.write({"state": "done", "last_error": False, "next_attempt_date": False})

    def _apply_confirmation_file(self):
        """Apply every usable confirmation; return the reasons for what was not used."""
        self.ensure_one()
        attachment = self.payload_attachment_ids[:1]
        if not attachment:
            return [self.last_error or self.env._("The file could not be read.")]
        try:
            batch = parse_confirmation_file(
                self.file_name, base64.b64decode(attachment.datas), self.profile_id._csv_mapping()
            )
        except PermanentError as exc:
            return [str(exc)]
        problems = [f"{r.reference or '?'} (row {r.row}): {r.reason}" for r in batch.rejections]
        applied = 0
        for confirmation in batch.confirmations:
            try:
                with self.env.cr.savepoint():
                    applied += self._apply_confirmation(confirmation)
            except Exception as exc:  # noqa: BLE001 - one delivery of the file, recorded
                problems.append(f"{confirmation.reference}: {exc}")
        self.confirmation_count = self.confirmation_count + applied
        return problems

    def _apply_confirmation(self, confirmation):
        sent = self.search(
            Domain("profile_id", "=", self.profile_id.id)
            & Domain("direction", "=", "out")
            & Domain("picking_id.name", "=", confirmation.reference)
            & Domain("state", "!=", "cancel"),
            limit=1,
        )
        if not sent:
            raise PermanentError(self.env._("no delivery with this reference was sent"))
        applied = sent._confirm_delivery(confirmation)
        if applied and not self.picking_id:
            self.picking_id = sent.picking_id
        return applied

    @api.private
    def _confirm_delivery(self, confirmation):
        """Apply one confirmation to this sent delivery; 0 if it was confirmed before."""
        self.ensure_one()
        if self.state == "confirmed":
            return 0  # confirmed before (another file, the portal): nothing twice
        if self.state not in ("sent", "acknowledged"):
            raise PermanentError(self.env._("the delivery was not sent (%s)", self.state))
        self.picking_id._shipping_exchange_confirm(confirmation)
        self.write({"state": "confirmed", "confirmed_date": fields.Datetime.now()})
        return 1

    @api.private
    def _confirm_from_portal(self, tracking_ref):
        """The carrier typed the tracking number of the whole delivery in the portal."""
        self.ensure_one()
        tracking_ref = (tracking_ref or "").strip()
        if not tracking_ref or len(tracking_ref) > 200:
            raise UserError(self.env._("Enter the tracking number."))
        confirmation = Confirmation(self.picking_id.name, tracking_ref, "", (), None)
        try:
            with self.env.cr.savepoint():
                self._confirm_delivery(confirmation)
        except PermanentError as exc:
            raise UserError(str(exc)) from exc
        self.message_post(
            body=self.env._("Tracking number %s entered in the portal.", tracking_ref),
            subtype_xmlid="mail.mt_note",
        )

    # --- watchdog ---------------------------------------------------------------------

    @api.model
    def _cron_watch_confirmations(self, batch_size=100):
        """A delivery sent without confirmation past the profile's deadline becomes a case."""
        now = fields.Datetime.now()
        cron = self.env["ir.cron"]
        late = self.browse()
        for profile in self.env["shipping.exchange.profile"].search([]):
            deadline = now - timedelta(hours=profile.confirmation_hours or 24)
            late |= self.search(
                Domain("profile_id", "=", profile.id)
                & Domain("direction", "=", "out")
                & Domain("state", "in", ["sent", "acknowledged"])
                & Domain("case_id", "=", False)
                & Domain("sent_date", "<", deadline),
                limit=batch_size,
            )
        cron._commit_progress(remaining=len(late))
        for record in late:
            locked = record.try_lock_for_update().filtered(lambda r: not r.case_id)
            if locked:
                locked._open_late_case()
            if not cron._commit_progress(1):
                break

    def _open_late_case(self):
        picking = self.picking_id
        case = self.env["crm.shop.case"].create(
            {
                "name": self.env._("No shipping confirmation for %s", picking.name),
                "queue_id": self.profile_id.case_queue_id.id,
                "partner_id": picking.partner_id.id,
                "sale_order_id": picking._shipping_exchange_sale_order().id,
                "shipping_exchange_record_id": self.id,
                "description": self.env._(
                    "%(profile)s has not confirmed delivery %(delivery)s sent on %(date)s.",
                    profile=self.profile_id.name,
                    delivery=picking.name,
                    date=self.sent_date,
                ),
            }
        )
        self.case_id = case
