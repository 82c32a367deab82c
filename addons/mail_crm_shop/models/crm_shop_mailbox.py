from odoo import fields, models


class CrmShopMailbox(models.Model):
    _name = "crm.shop.mailbox"
    _description = "Shared IMAP mailbox"
    _order = "name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    email = fields.Char(string="E-mail address", required=True)
    host = fields.Char(required=True)
    port = fields.Integer(required=True, default=993)
    security = fields.Selection(
        [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None (test servers only)")],
        required=True,
        default="ssl",
    )
    login = fields.Char(required=True)
    password = fields.Char(groups="mail_crm_shop.group_manager", copy=False)
    folder_names = fields.Char(
        string="Folders", required=True, default="INBOX", help="Comma-separated IMAP folders."
    )
    sent_folder_name = fields.Char(string="Sent folder", default="Sent")
    queue_id = fields.Many2one(
        "crm.shop.queue", required=True, help="New cases land in this queue."
    )
    mark_seen = fields.Boolean(
        string="Flag as seen", default=True, help="Flag a mail \\Seen once it is stored."
    )
    state = fields.Selection(
        [("draft", "Not synced yet"), ("ok", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
    )
    last_sync_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
