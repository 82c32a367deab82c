import base64
import hashlib
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.confirmation_inbox import poll_confirmations
from ..services.confirmation import parse_confirmation_file

_logger = logging.getLogger(__name__)


class ShippingExchangeRecord(models.Model):
    """Confirmations coming back (files, mails, the portal) and the watchdog for those
    that do not come."""

    _inherit = "shipping.exchange.record"

    confirmation_count = fields.Integer(string="Confirmed deliveries", readonly=True)
    source = fields.Selection(
        [
            ("folder", "Confirmation folder"),
            ("mail", "Mail attachment"),
            ("mail_text", "Mail text"),
            ("portal", "Portal"),
        ],
        readonly=True,
        help="Where an incoming confirmation came from.",
    )

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
    def _store_confirmation_file(
        self, profile, name, content, error="", commit=False, source="folder", process=True
    ):
        """Keep the file as an incoming record (once per content) and apply it.

        The same content again returns the record of its first arrival: nothing twice.
        ``commit``: from the cron only, before the remote file is moved. ``process``
        False: only stored, the processing cron applies it.
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
                "source": source,
                "last_error": error or False,
            }
        )
        if content:
            record.payload_attachment_ids = self._attach_raw(record, name, content)
        if process:
            record._process_inbound()
        if commit:
            self.env["ir.cron"]._commit_progress(1)
        return record

    @api.model
    def _attach_raw(self, record, name, content):
        return self.env["ir.attachment"].create(
            {"name": name, "raw": content, "res_model": self._name, "res_id": record.id}
        )

    @api.model
    def _inbound_due_domain(self):
        return (
            Domain("direction", "=", "in")
            & Domain("state", "in", ["pending", "error"])
            & (
                Domain("next_attempt_date", "=", False)
                | Domain("next_attempt_date", "<=", fields.Datetime.now())
            )
        )

    @api.model
    def _cron_process_confirmations(self, batch_size=50):
        """Apply the stored incoming records (mails, portal entries, and any whose
        processing crashed before), one commit each."""
        due = self._inbound_due_domain()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(due))
        for record in self.search(due, limit=batch_size, order="id"):
            locked = record._shop_try_lock_for_update().filtered_domain(due)
            if locked:
                locked._process_inbound()
            if not cron._commit_progress(1):
                break

    @api.private
    def _process_inbound(self):
        """Apply each incoming record; whatever happens, the received entry stays."""
        for record in self:
            try:
                with self.env.cr.savepoint():
                    problems = record._apply_inbound()
            except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
                record._record_failure(exc)  # retried with backoff, or failed
                continue
            if problems:
                error = "\n".join(problems)
                record.write({"state": "failed", "last_error": error, "next_attempt_date": False})
                record._notify_failed(error)
            else:
                record.write({"state": "done", "last_error": False, "next_attempt_date": False})

    def _apply_inbound(self):
        """Apply every usable confirmation; return the reasons for what was not used."""
        self.ensure_one()
        if self.source == "portal":
            return self._apply_portal_entry()
        attachment = self.payload_attachment_ids[:1]
        if not attachment:
            return [self.last_error or self.env._("The file could not be read.")]
        content = base64.b64decode(attachment.datas or b"")
        try:
            if self.source == "mail_text":
                batch = self._parse_mail_text(content)
            else:
                batch = parse_confirmation_file(
                    self.file_name, content, self.profile_id._csv_mapping()
                )
        except PermanentError as exc:
            return [str(exc)]
        return self._apply_batch(batch)

    def _apply_batch(self, batch):
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
    def _confirm_delivery(self, confirmation, move_quantities=None):
        """Apply one confirmation to this sent delivery; 0 if it was confirmed before.

        ``move_quantities``: {move id: shipped quantity} (the portal), else the lines of
        the confirmation. Shipped less than ordered: the rest becomes a backorder, noted
        here.
        """
        self.ensure_one()
        if self.state == "confirmed":
            return 0  # confirmed before (another file, the portal): nothing twice
        if self.state not in ("sent", "acknowledged"):
            raise PermanentError(self.env._("the delivery was not sent (%s)", self.state))
        picking = self.picking_id
        ordered = {move: move.product_uom_qty for move in picking.move_ids}
        picking._shipping_exchange_confirm(confirmation, move_quantities)
        self.write({"state": "confirmed", "confirmed_date": fields.Datetime.now()})
        backorders = self.env["stock.picking"].search([("backorder_id", "=", picking.id)])
        if backorders:
            shipped = ", ".join(
                f"{move.product_id.default_code or move.product_id.display_name}: "
                f"{move.quantity:g} / {ordered.get(move, move.product_uom_qty):g}"
                for move in picking.move_ids
                if move.state == "done"
            )
            self.message_post(
                body=self.env._(
                    "Partly shipped (%(lines)s). The rest stays on backorder %(backorder)s.",
                    lines=shipped,
                    backorder=", ".join(backorders.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return 1

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
            locked = record._shop_try_lock_for_update().filtered(lambda r: not r.case_id)
            if locked:
                locked._open_late_case()
            if not cron._commit_progress(1):
                break

    def _open_late_case(self):
        picking = self.picking_id
        queue = self.env["crm.shop.queue"]._shop_exception_queue(
            picking.company_id, self.profile_id.case_queue_id
        )
        case = self.env["crm.shop.case"].create(
            {
                "name": self.env._("No shipping confirmation for %s", picking.name),
                "queue_id": queue.id,
                "company_id": picking.company_id.id,
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
