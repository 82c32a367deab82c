from odoo import fields, models


class ShippingExchangeProfile(models.Model):
    _name = "shipping.exchange.profile"
    _description = "Carrier or fulfilment provider exchange profile"
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    carrier_id = fields.Many2one("delivery.carrier")
    file_format = fields.Selection(
        [("xml", "XML"), ("pdf", "PDF"), ("xml_pdf", "XML and PDF")],
        required=True,
        default="xml",
    )
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
    password = fields.Char(groups="shipping_exchange.group_manager", copy=False)
    remote_dir = fields.Char(string="Upload folder", default="/in")
    email_to = fields.Char(string="Send to")
    confirmation_hours = fields.Integer(
        default=24, help="Hours a confirmation may take before the delivery becomes a case."
    )
    record_ids = fields.One2many("shipping.exchange.record", "profile_id")
