import base64
import io
import json

import xmlschema

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.mail_crm_shop.services.errors import PermanentError, TransientError

from ..adapters.ftp import FtpSettings, FtpTransport
from ..adapters.http import HttpSettings, HttpTransport
from ..adapters.sftp import SftpSettings, SftpTransport, fetch_host_key
from ..services.confirmation import CsvMapping
from ..services.delivery_xml import GENERIC_XSD, XmlMapping, check_mapping
from ..services.mail_confirmation import TextPatterns, check_pattern

MANAGER = "shipping_exchange.group_manager"


class ShippingExchangeProfile(models.Model):
    _name = "shipping.exchange.profile"
    _description = "Carrier or fulfilment provider exchange profile"
    _inherit = ["mail.thread", "mail.alias.mixin.optional"]
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    carrier_id = fields.Many2one("delivery.carrier")
    shipper_code = fields.Char(help="Our customer number at the carrier, sent in every file.")
    file_format = fields.Selection(
        [("xml", "XML"), ("pdf", "PDF"), ("xml_pdf", "XML and PDF")],
        required=True,
        default="xml",
    )
    embed_pdf = fields.Boolean(
        string="PDF inside the XML", help="XML and PDF: the delivery note travels inside the XML."
    )
    xsd_attachment_id = fields.Many2one(
        "ir.attachment", string="Carrier XSD", help="Validate against this schema instead."
    )
    xml_mapping = fields.Text(
        string="XML mapping",
        help='JSON: {"values": {"Recipient/Name": "{recipient_name}"}, "renames": {"Zip": "PLZ"}}',
    )
    send_mode = fields.Selection(
        [("schedule", "With the next scheduled run"), ("immediate", "As soon as it is ready")],
        required=True,
        default="schedule",
    )
    send_batched = fields.Boolean(
        string="One file per run", help="All deliveries due in a run travel in one file."
    )
    manual_release = fields.Boolean(help="Deliveries wait until a person releases them.")
    transport = fields.Selection(
        [
            ("email", "E-mail"),
            ("ftp", "FTP"),
            ("ftps", "FTPS"),
            ("sftp", "SFTP"),
            ("api", "HTTP API"),
        ],
        required=True,
        default="sftp",
    )
    host = fields.Char()
    port = fields.Integer()
    login = fields.Char()
    password = fields.Char(groups=MANAGER, copy=False)
    private_key = fields.Text(string="SSH private key", groups=MANAGER, copy=False)
    host_key = fields.Char(
        string="Trusted host key", groups=MANAGER, copy=False, help="SSH host key of the server."
    )
    fetched_host_key = fields.Char(
        string="Key presented by the server", groups=MANAGER, copy=False, readonly=True
    )
    verify_tls = fields.Boolean(string="Verify TLS certificate", default=True)
    remote_dir = fields.Char(string="Upload folder", default="/in")
    confirmation_dir = fields.Char(string="Confirmation folder", default="/out")
    http_url = fields.Char(string="URL")
    http_auth_header = fields.Char(
        string="Authentication header", groups=MANAGER, copy=False, help="Authorization: Bearer …"
    )
    http_format = fields.Selection(
        [("xml", "XML body"), ("json", "JSON")], string="Body", default="xml", required=True
    )
    email_to = fields.Char(string="Send to")
    csv_mapping = fields.Text(
        string="CSV columns",
        help='JSON, e.g. {"reference": "Lieferschein", "tracking_ref": "Sendungsnummer"}',
    )
    mail_reference_pattern = fields.Char(
        string="Reference in mail text",
        help="Regular expression that finds the delivery reference in a confirmation mail "
        "without a file (group 'value' or the first group). Empty: German and English "
        "wording such as 'Lieferschein: WH/OUT/00012' or 'Ref WH/OUT/00012'.",
    )
    mail_tracking_pattern = fields.Char(
        string="Tracking number in mail text",
        help="Regular expression that finds the tracking numbers in a confirmation mail "
        "without a file (group 'value' or the first group; several numbers separated by "
        "commas). Empty: wording such as 'Sendungsnummer: …' or 'Tracking number: …'.",
    )
    confirmation_hours = fields.Integer(
        default=24, help="Hours a confirmation may take before the delivery becomes a case."
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Carrier contact",
        help="Its portal users see the deliveries sent to this profile at /my/shipping and "
        "enter tracking numbers there.",
    )
    case_queue_id = fields.Many2one("crm.shop.queue", string="Queue for late deliveries")
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        help="Gets an activity when a delivery or a confirmation fails.",
    )
    last_error = fields.Text(readonly=True, copy=False)
    record_ids = fields.One2many("shipping.exchange.record", "profile_id")

    @api.constrains("xml_mapping")
    def _check_xml_mapping(self):
        for profile in self.filtered("xml_mapping"):
            try:
                profile._xml_mapping()
            except (ValueError, PermanentError) as exc:
                raise ValidationError(self.env._("The XML mapping is not valid: %s", exc)) from exc

    @api.constrains("csv_mapping")
    def _check_csv_mapping(self):
        for profile in self.filtered("csv_mapping"):
            try:
                profile._csv_mapping()
            except (ValueError, TypeError) as exc:
                raise ValidationError(self.env._("The CSV columns are not valid: %s", exc)) from exc

    @api.constrains("mail_reference_pattern", "mail_tracking_pattern")
    def _check_mail_patterns(self):
        for profile in self:
            for pattern in (profile.mail_reference_pattern, profile.mail_tracking_pattern):
                if not pattern:
                    continue
                try:
                    check_pattern(pattern)
                except ValueError as exc:
                    raise ValidationError(
                        self.env._(
                            "The pattern %(pattern)s is not valid: %(error)s",
                            pattern=pattern,
                            error=exc,
                        )
                    ) from exc

    def _text_patterns(self):
        defaults = TextPatterns()
        return TextPatterns(
            reference=self.mail_reference_pattern or defaults.reference,
            tracking=self.mail_tracking_pattern or defaults.tracking,
        )

    def _xml_mapping(self):
        if not self.xml_mapping:
            return None
        data = json.loads(self.xml_mapping)
        if not isinstance(data, dict):
            raise ValueError("a JSON object is expected")
        mapping = XmlMapping.from_dict(data)
        check_mapping(mapping)
        return mapping

    def _csv_mapping(self):
        if not self.csv_mapping:
            return CsvMapping()
        data = json.loads(self.csv_mapping)
        if not isinstance(data, dict):
            raise TypeError("a JSON object is expected")
        if "date_formats" in data:
            data["date_formats"] = tuple(data["date_formats"])
        return CsvMapping(**data)

    def _xsd(self):
        """The carrier's own schema if the profile has one, else the generic one."""
        if not self.xsd_attachment_id:
            return GENERIC_XSD
        raw = base64.b64decode(self.xsd_attachment_id.sudo().datas or b"")
        try:
            return xmlschema.XMLSchema(io.BytesIO(raw))
        except (xmlschema.XMLSchemaException, ValueError) as exc:
            raise PermanentError(self.env._("The carrier XSD cannot be read: %s", exc)) from exc

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("shipping.exchange.record")
        # a confirmation validates deliveries: only the carrier's known senders (followers)
        values["alias_contact"] = "followers"
        if self.id:
            values["alias_defaults"] = repr({"profile_id": self.id})
        return values

    # --- host key -------------------------------------------------------------------

    def action_fetch_host_key(self):
        """Ask the server for its key; a person compares it and then trusts it."""
        self.ensure_one()
        if not self.host:
            raise UserError(self.env._("Enter the host first."))
        try:
            key = self._fetch_host_key()
        except (TransientError, PermanentError) as exc:
            raise UserError(self.env._("The server did not answer: %s", exc)) from exc
        self.sudo().fetched_host_key = key

    def action_trust_host_key(self):
        for profile in self.sudo().filtered("fetched_host_key"):
            profile.write({"host_key": profile.fetched_host_key, "fetched_host_key": False})

    def _fetch_host_key(self):
        return fetch_host_key(self.host, self.port or 22)

    # --- the I/O seams ----------------------------------------------------------------

    @api.private
    def _get_transport_adapter(self):
        """The upload/confirmation client of this profile (e-mail goes through mail.mail)."""
        self.ensure_one()
        if self.transport == "sftp":
            return self._get_sftp_adapter()
        if self.transport in ("ftp", "ftps"):
            return self._get_ftp_adapter()
        if self.transport == "api":
            return self._get_http_adapter()
        raise PermanentError(self.env._("Transport %s has no file client.", self.transport))

    def _get_sftp_adapter(self):
        profile = self.sudo()
        if not profile.host_key:
            raise PermanentError(self.env._("Fetch and trust the server's host key first."))
        return SftpTransport(
            SftpSettings(
                host=profile.host or "",
                host_key=profile.host_key,
                port=profile.port or 22,
                user=profile.login or "",
                password=profile.password or "",
                private_key=profile.private_key or "",
                upload_dir=profile.remote_dir or "/",
                confirmation_dir=profile.confirmation_dir or "/",
            )
        )

    def _get_ftp_adapter(self):
        profile = self.sudo()
        return FtpTransport(
            FtpSettings(
                host=profile.host or "",
                port=profile.port or 21,
                user=profile.login or "anonymous",
                password=profile.password or "",
                upload_dir=profile.remote_dir or "/",
                confirmation_dir=profile.confirmation_dir or "/",
                tls=profile.transport == "ftps",
                verify_tls=profile.verify_tls,
            )
        )

    def _get_http_adapter(self):
        profile = self.sudo()
        return HttpTransport(
            HttpSettings(
                url=profile.http_url or "",
                content_type=profile.http_format,
                auth_header=profile.http_auth_header or "",
                verify_tls=profile.verify_tls,
            )
        )
