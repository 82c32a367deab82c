from odoo import api, fields, models

from ..adapters.imap import ImapAdapter, ImapSettings


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
    ca_file = fields.Char(
        string="CA certificate file",
        groups="mail_crm_shop.group_manager",
        help="Only for a server whose certificate comes from your own certificate authority: "
        "the path of that authority's certificate (PEM) on the Odoo server. Empty: the "
        "certificate authorities the server trusts anyway. Certificates are always checked.",
    )
    folder_names = fields.Char(
        string="Folders", required=True, default="INBOX", help="Comma-separated IMAP folders."
    )
    sent_folder_name = fields.Char(string="Sent folder", default="Sent")
    queue_id = fields.Many2one(
        "crm.shop.queue", required=True, help="New cases land in this queue."
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        help="Gets a to-do when a mail of this mailbox cannot be processed or filed.",
    )
    mark_seen = fields.Boolean(
        string="Flag as seen", default=True, help="Flag a mail \\Seen once it is stored."
    )
    sync_read_state = fields.Boolean(
        string="Seen follows the case",
        help="The \\Seen flag of a mail on the server follows its case: seen once the case "
        "is no longer new (opened, answered, waiting or closed), unseen again when it is set "
        "back to new. A stored mail is then not flagged seen at once. The flags are applied "
        "by the next synchronisation.",
    )
    state = fields.Selection(
        [("draft", "Not synced yet"), ("ok", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
    )
    last_sync_date = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    folder_state_ids = fields.One2many(
        "crm.shop.folder.state", "mailbox_id", string="Folder states", readonly=True
    )
    inbound_mail_count = fields.Integer(compute="_compute_inbound_mail_count")

    def _compute_inbound_mail_count(self):
        counts = dict(
            self.env["crm.shop.inbound.mail"]._read_group(
                [("mailbox_id", "in", self.ids)], ["mailbox_id"], ["__count"]
            )
        )
        for mailbox in self:
            mailbox.inbound_mail_count = counts.get(mailbox, 0)

    # --- actions ---------------------------------------------------------------

    def action_sync_now(self):
        """Run the sync cron as soon as possible (it commits, a button must not)."""
        self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("Synchronisation started; refresh in a moment."),
            },
        }

    def action_view_inbound_mails(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_crm_shop.crm_shop_inbound_mail_action"
        )
        action["domain"] = [("mailbox_id", "=", self.id)]
        action["context"] = {}
        return action

    # --- IMAP seam -------------------------------------------------------------

    @api.private
    def _get_imap_adapter(self):
        """Return the IMAP adapter of this mailbox (the one I/O seam, replaced in tests)."""
        self.ensure_one()
        settings = ImapSettings(
            host=self.host,
            port=self.port,
            security=self.security,
            login=self.login,
            password=self.sudo().password or "",
            cafile=self.sudo().ca_file or None,
        )
        return ImapAdapter(settings)

    @api.private
    def _get_own_addresses(self):
        return tuple(filter(None, ((mailbox.email or "").strip().lower() for mailbox in self)))

    @api.private
    def _notify_responsible(self, record, summary, note):
        """Give the mailbox's responsible a to-do on ``record`` (once per record)."""
        self.ensure_one()
        if not self.user_id:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        if record.activity_ids.filtered(lambda a: a.activity_type_id == todo):
            return
        record.activity_schedule(
            "mail.mail_activity_data_todo", summary=summary, note=note, user_id=self.user_id.id
        )

    def _get_folder_names(self):
        self.ensure_one()
        return [name.strip() for name in (self.folder_names or "").split(",") if name.strip()]
