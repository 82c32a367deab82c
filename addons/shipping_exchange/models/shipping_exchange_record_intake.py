import base64
import hashlib
import json
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..services.confirmation import Confirmation
from ..services.mail_confirmation import html_to_text, parse_mail_text
from ..services.portal_entry import EntryError, check_portal_entry

CONFIRMATION_SUFFIXES = ("xml", "csv", "txt")
OPEN_ENTRY_STATES = ("pending", "error")


class ShippingExchangeRecord(models.Model):
    """Confirmations received by mail or typed in the portal: stored first (the raw mail
    text, file or entry kept on an incoming record), applied by the processing cron."""

    _inherit = "shipping.exchange.record"  # pylint: disable=consider-merging-classes-inherited

    # --- mail ---------------------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A mail to the profile's alias: each confirmation file attached is an incoming
        record; without one, the mail text is. Nothing is applied here."""
        values = dict(custom_values or {})
        profile = self.env["shipping.exchange.profile"].browse(values.get("profile_id"))
        if not profile.exists():
            return super().message_new(msg_dict, custom_values)
        files, others = [], []
        for attachment in msg_dict.get("attachments") or []:
            content = attachment.content
            if isinstance(content, str):
                content = content.encode()
            if self._is_confirmation_file(attachment.fname):
                files.append((attachment.fname, content))
            else:
                others.append((attachment.fname, content))
        records = self.browse()
        for name, content in files:
            records |= self._store_confirmation_file(
                profile, name, content, source="mail", process=False
            )
        if not records:
            records = self._store_mail_text(profile, msg_dict, others)
        self.env.ref("shipping_exchange.ir_cron_process_confirmations")._trigger()
        return records[:1]

    @api.model
    def _is_confirmation_file(self, file_name):
        name = (file_name or "").lower()
        return "." in name and name.rsplit(".", 1)[-1] in CONFIRMATION_SUFFIXES

    @api.model
    def _store_mail_text(self, profile, msg_dict, others):
        """The mail's text as an incoming record (the mail's other attachments with it)."""
        body = (msg_dict.get("body") or "").encode()
        message_id = (msg_dict.get("message_id") or "").encode()
        digest = hashlib.sha256(b"mail-text\0" + message_id + b"\0" + body).hexdigest()
        known = Domain("profile_id", "=", profile.id) & Domain("direction", "=", "in")
        existing = self.search(known & Domain("file_hash", "=", digest), limit=1)
        if existing:
            return existing
        subject = (msg_dict.get("subject") or "").strip()
        record = self.create(
            {
                "profile_id": profile.id,
                "direction": "in",
                "source": "mail_text",
                "file_name": subject[:200] or self.env._("Mail without subject"),
                "file_hash": digest,
                "state": "pending",
            }
        )
        attachments = self._attach_raw(record, "mail-body.html", body)
        for name, content in others:
            attachments |= self._attach_raw(record, name, content)
        record.payload_attachment_ids = attachments
        return record

    def _parse_mail_text(self, content):
        text = html_to_text(content.decode("utf-8", "replace"))
        try:
            return parse_mail_text(
                text, self.profile_id._text_patterns(), self.profile_id._csv_mapping()
            )
        except PermanentError as exc:
            raise PermanentError(
                self.env._(
                    "The mail has neither a confirmation file attached nor a confirmation "
                    "in its text: %s",
                    exc,
                )
            ) from exc

    # --- portal -------------------------------------------------------------------------

    @api.private
    def _confirm_from_portal(self, tracking_text, quantities=None):
        """The carrier's entry on the portal for this sent delivery: checked now (a wrong
        entry changes nothing), stored as an incoming record, applied by the cron.

        ``quantities``: {move id: text typed}; a line left out ships what was sent (the
        quantity of the delivery order the carrier got: what was reserved of it then).
        """
        self.ensure_one()
        if self.direction != "out" or self.state not in ("sent", "acknowledged"):
            raise UserError(self.env._("This delivery is not waiting for a confirmation."))
        if self._open_portal_entries():
            raise UserError(self.env._("Your entry for this delivery is already received."))
        ordered = self._portal_sent_quantities()
        moves = self._portal_moves(ordered)
        try:
            entry = check_portal_entry(tracking_text or "", quantities or {}, ordered)
        except EntryError as exc:
            raise UserError(self._portal_entry_message(exc, moves)) from exc
        raw = json.dumps(self._portal_entry_payload(entry, moves, ordered), indent=2).encode()
        record = self._store_portal_entry(raw)
        self.message_post(
            body=self.env._(
                "Tracking number(s) %(tracking)s entered in the portal by %(user)s.",
                tracking=", ".join(entry.tracking_refs),
                user=self.env.user.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        self.env.ref("shipping_exchange.ir_cron_process_confirmations")._trigger()
        return record

    def _portal_entry_payload(self, entry, moves, ordered):
        """What the carrier entered, as the incoming record's JSON file keeps it."""
        return {
            "record_id": self.id,
            "delivery": self.picking_id.name,
            "tracking_refs": list(entry.tracking_refs),
            "lines": [
                {
                    "move_id": move_id,
                    "sku": moves.browse(move_id).product_id.default_code or "",
                    "ordered": str(ordered[move_id]),
                    "shipped": str(qty),
                }
                for move_id, qty in entry.quantities
            ],
            "partial": entry.partial,
            "user": self.env.user.login,
            "entered": fields.Datetime.to_string(fields.Datetime.now()),
        }

    def _store_portal_entry(self, raw):
        """The incoming record of a portal entry (``raw``: its JSON file), to apply."""
        record = self.create(
            {
                "profile_id": self.profile_id.id,
                "picking_id": self.picking_id.id,
                "direction": "in",
                "source": "portal",
                "file_name": self.env._("Portal entry for %s", self.picking_id.name),
                "file_hash": hashlib.sha256(raw).hexdigest(),
                "state": "pending",
            }
        )
        record.payload_attachment_ids = self._attach_raw(record, "portal-entry.json", raw)
        return record

    def _portal_moves(self, sent=None):
        """The open lines of the delivery order the carrier got (an unreserved line was
        not sent: it stays for the backorder). ``sent``: ``_portal_sent_quantities()``
        when the caller has it already."""
        if sent is None:
            sent = self._portal_sent_quantities()
        return self.picking_id.move_ids.filtered(lambda m: m.id in sent)

    def _portal_sent_quantities(self):
        """{move id: quantity sent to the carrier} of the open lines of the delivery."""
        return {
            move.id: qty
            for move, qty in self.picking_id._shipping_exchange_sent().items()
            if move.state not in ("done", "cancel")
        }

    def _open_portal_entries(self):
        return self.search(
            Domain("direction", "=", "in")
            & Domain("source", "=", "portal")
            & Domain("picking_id", "=", self.picking_id.id)
            & Domain("state", "in", list(OPEN_ENTRY_STATES))
        )

    def _portal_entry_message(self, exc, moves):
        """The user's text for a refused portal entry (:class:`EntryError` codes)."""
        _ = self.env._
        line = moves.browse(exc.subject) if isinstance(exc.subject, int) else moves.browse()
        product = line.exists().product_id.display_name or str(exc.subject)
        messages = {
            "no_tracking": lambda: _("Enter the tracking number."),
            "bad_tracking": lambda: _(
                "The tracking number %s is too long or contains invalid characters.", exc.subject
            ),
            "too_many_parcels": lambda: _("At most %s tracking numbers per delivery.", exc.limit),
            "unknown_line": lambda: _("This line is not part of the delivery."),
            "not_a_number": lambda: _("Enter a number as the shipped quantity of %s.", product),
            "negative": lambda: _("The shipped quantity of %s cannot be negative.", product),
            "above_ordered": lambda: _(
                "The shipped quantity of %(product)s is above the %(ordered)s to ship.",
                product=product,
                ordered=f"{float(exc.limit):g}",
            ),
            "nothing_shipped": lambda: _("Enter the quantity shipped of at least one line."),
        }
        message = messages.get(exc.code)
        return message() if message else str(exc)

    def _apply_portal_entry(self):
        """Apply the stored portal entry to the delivery it was typed for."""
        self.ensure_one()
        attachment = self.payload_attachment_ids[:1]
        try:
            data = json.loads(base64.b64decode(attachment.datas or b""))
            sent = self.browse(int(data["record_id"])).exists()
            quantities = {int(line["move_id"]): Decimal(line["shipped"]) for line in data["lines"]}
            tracking = ",".join(data["tracking_refs"])
        except (ValueError, KeyError, TypeError) as exc:
            return [self.env._("The portal entry cannot be read: %s", exc)]
        if not sent or sent.profile_id != self.profile_id or sent.direction != "out":
            return [self.env._("The delivery of this portal entry no longer exists.")]
        confirmation = Confirmation(sent.picking_id.name, tracking, "", (), None)
        try:
            with self.env.cr.savepoint():
                self.confirmation_count += sent._confirm_delivery(confirmation, quantities)
        except (PermanentError, UserError, ValidationError) as exc:
            return [f"{sent.picking_id.name}: {exc}"]
        if not self.picking_id:
            self.picking_id = sent.picking_id
        return []
