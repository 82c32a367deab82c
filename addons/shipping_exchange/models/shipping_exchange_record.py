import logging

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.retry import decide_retry

from ..services.exchange_files import build_exchange_files, file_stem

_logger = logging.getLogger(__name__)

RECORD_STATES = [
    ("to_release", "To release"),
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("acknowledged", "Acknowledged"),
    ("confirmed", "Confirmed"),
    ("done", "Processed"),
    ("error", "Error (retry scheduled)"),
    ("failed", "Failed"),
    ("cancel", "Cancelled"),
]


class ShippingExchangeRecord(models.Model):
    """One delivery sent to, or one confirmation file received from, an exchange profile."""

    _name = "shipping.exchange.record"
    _description = "Shipping exchange record"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    profile_id = fields.Many2one(
        "shipping.exchange.profile", required=True, ondelete="restrict", index=True
    )
    picking_id = fields.Many2one("stock.picking", string="Delivery", index=True)
    direction = fields.Selection(
        [("out", "Outgoing"), ("in", "Incoming")], required=True, default="out"
    )
    state = fields.Selection(
        RECORD_STATES, default="pending", required=True, index=True, tracking=True
    )
    attempt_count = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_error = fields.Text(readonly=True)
    sent_date = fields.Datetime(readonly=True)
    confirmed_date = fields.Datetime(readonly=True)
    remote_ref = fields.Char(string="Carrier reference", readonly=True, copy=False)
    response = fields.Text(string="Carrier response", readonly=True, copy=False)
    payload_attachment_ids = fields.Many2many(
        "ir.attachment", string="Files", readonly=True, copy=False
    )
    file_name = fields.Char(readonly=True, copy=False)
    file_hash = fields.Char(readonly=True, copy=False)
    case_id = fields.Many2one("crm.shop.case", readonly=True, copy=False)
    company_id = fields.Many2one("res.company", related="profile_id.company_id", store=True)

    _picking_profile_uniq = models.UniqueIndex(
        "(picking_id, profile_id, direction) WHERE state != 'cancel' AND direction = 'out'",
        "This delivery already has an exchange record for this profile.",
    )
    _file_uniq = models.UniqueIndex(
        "(profile_id, file_hash) WHERE direction = 'in'",
        "This confirmation file was already received.",
    )

    @api.depends("picking_id.name", "file_name", "direction")
    def _compute_name(self):
        for record in self:
            record.name = record.picking_id.name if record.direction == "out" else record.file_name

    @api.model
    def _enqueue(self, picking, profile):
        record = self.create(
            {
                "picking_id": picking.id,
                "profile_id": profile.id,
                "state": "to_release" if profile.manual_release else "pending",
            }
        )
        if record.state == "pending" and profile.send_mode == "immediate":
            self.env.ref("shipping_exchange.ir_cron_send")._trigger()
        return record

    # --- buttons ----------------------------------------------------------------------

    def action_release(self):
        self.filtered(lambda r: r.state == "to_release").write(
            {"state": "pending", "next_attempt_date": fields.Datetime.now()}
        )

    def action_retry(self):
        retried = self.filtered(lambda r: r.state in ("error", "failed"))
        retried.write(
            {"state": "pending", "attempt_count": 0, "next_attempt_date": fields.Datetime.now()}
        )
        retried.activity_unlink(["mail.mail_activity_data_todo"])
        retried.filtered(lambda r: r.direction == "in")._process_inbound()

    def action_cancel(self):
        to_cancel = self.filtered(lambda r: r.state not in ("confirmed", "done", "cancel"))
        to_cancel.write({"state": "cancel"})
        # the partial unique index only frees the delivery once the state is in the table
        to_cancel.flush_recordset(["state"])

    # --- sending ----------------------------------------------------------------------

    @api.model
    def _send_domain(self):
        return (
            Domain("direction", "=", "out")
            & Domain("state", "in", ["pending", "error"])
            & (
                Domain("next_attempt_date", "=", False)
                | Domain("next_attempt_date", "<=", fields.Datetime.now())
            )
        )

    @api.model
    def _cron_send(self, batch_size=50):
        """Send due deliveries, one committed unit per delivery."""
        due = self._send_domain()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(due))
        records = self.search(due, limit=batch_size, order="id")
        batched = records.filtered("profile_id.send_batched")
        for record in records - batched:
            locked = record._shop_try_lock_for_update().filtered_domain(due)
            if locked:
                locked._send()
            if not cron._commit_progress(1):
                return
        for group in batched.grouped("profile_id").values():
            locked = group._shop_try_lock_for_update().filtered_domain(due)
            if locked:
                locked._send_batch()  # one file for the profile's due deliveries
            if not cron._commit_progress(len(group)):
                return

    @api.private
    def _send(self):
        self.ensure_one()
        if self.picking_id.state == "cancel":
            self.action_cancel()  # the delivery was cancelled meanwhile: nothing to send
            return
        try:
            with self.env.cr.savepoint():
                vals = self._transmit()
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            self._record_failure(exc)
        else:
            self.write(
                {
                    "last_error": False,
                    "next_attempt_date": False,
                    "sent_date": fields.Datetime.now(),
                    **vals,
                }
            )

    def _transmit(self):
        return self._transmit_deliveries([self.picking_id._shipping_exchange_delivery()])

    def _build_files(self, deliveries, stem=""):
        profile = self.profile_id
        return build_exchange_files(
            deliveries,
            profile.file_format,
            profile.shipper_code or "",
            stem=stem,
            mapping=profile._xml_mapping(),
            xsd=profile._xsd(),
            embed_pdf=profile.embed_pdf,
        )

    def _transmit_deliveries(self, deliveries, stem=""):
        """Build, validate, keep and send the files of ``self`` (one profile); return the
        values to write on them."""
        profile = self.profile_id
        files = self._build_files(deliveries, stem)
        attachments = self[:1]._attach_files(files)
        if profile.transport == "email":
            return self._send_by_mail(attachments)
        vals = {"state": "sent", "payload_attachment_ids": [fields.Command.set(attachments.ids)]}
        with profile._get_transport_adapter() as transport:
            results = [transport.upload(f.name, f.content) for f in files]
        if profile.transport == "api":
            vals.update(self._http_vals(results[-1]))
        return vals

    def _attach_files(self, files):
        return self.env["ir.attachment"].create(
            [
                {
                    "name": f.name,
                    "raw": f.content,
                    "res_model": self._name,
                    "res_id": self.id,
                }
                for f in files
            ]
        )

    def _http_vals(self, result):
        vals = {"response": result.body.decode("utf-8", "replace")[:2000]}
        try:
            data = result.json()
        except Exception:  # noqa: BLE001 - a plain 2xx without JSON body is "sent"
            return vals
        remote = isinstance(data, dict) and (data.get("id") or data.get("reference"))
        if remote:
            vals.update({"state": "acknowledged", "remote_ref": str(remote)})
        return vals

    def _send_by_mail(self, attachments):
        profile = self.profile_id
        names = ", ".join(self.picking_id.mapped("name"))
        mail = self.env["mail.mail"].create(
            {
                "subject": self.env._("Delivery order %s", names),
                "email_to": profile.email_to,
                "body_html": self.env._("Delivery order %s attached.", names),
                "attachment_ids": [fields.Command.set(attachments.ids)],
                "model": self._name,
                "res_id": self[:1].id,
            }
        )
        return {
            "state": "sent",
            "payload_attachment_ids": [fields.Command.set(attachments.ids)],
            "response": self.env._("Queued as mail %s", mail.id),
        }

    def _record_failure(self, exc):
        _logger.info("Shipping exchange record %s failed: %s", self.id, exc)
        decision = decide_retry(exc, self.attempt_count, fields.Datetime.now())
        error = f"{type(exc).__name__}: {exc}"
        self.write(
            {
                "state": decision.state,
                "attempt_count": decision.attempt_count,
                "next_attempt_date": decision.next_attempt_date,
                "last_error": error,
            }
        )
        if decision.state == "failed":
            self._notify_failed(error)

    def _notify_failed(self, error):
        self.message_post(
            body=self.env._("A person is needed: %s", error), subtype_xmlid="mail.mt_note"
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Shipping exchange failed"),
            note=error,
            user_id=self.profile_id.user_id.id or self.env.uid,
        )

    @api.private
    def _send_batch(self):
        """Send ``self`` (due, locked, one profile) as one file; a delivery whose own data
        is wrong fails alone and does not hold up the others."""
        good, deliveries = self.browse(), []
        cancelled = self.filtered(lambda r: r.picking_id.state == "cancel")
        cancelled.action_cancel()
        for record in self - cancelled:
            try:
                with self.env.cr.savepoint():
                    delivery = record.picking_id._shipping_exchange_delivery()
                    record._build_files([delivery])  # checks this delivery on its own
            except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
                record._record_failure(exc)
            else:
                good |= record
                deliveries.append(delivery)
        if not good:
            return
        now = fields.Datetime.now()
        stem = f"{file_stem(good.profile_id.name or 'batch')}-{now:%Y%m%d-%H%M%S}-{good[0].id}"
        try:
            with self.env.cr.savepoint():
                vals = good._transmit_deliveries(deliveries, stem)
        except Exception as exc:  # noqa: BLE001 - the whole file failed, recorded on each
            for record in good:
                record._record_failure(exc)
        else:
            good.write({"last_error": False, "next_attempt_date": False, "sent_date": now, **vals})
