from odoo import fields, models


class CrmShopFolderState(models.Model):
    """How far one IMAP folder of a mailbox has been stored.

    ``uidvalidity`` is kept as text: it is an opaque 32-bit unsigned identity that only
    ever gets compared for equality. ``last_uid`` is the highest UID stored under it.
    ``unflagged_uids`` remembers stored mails the server has not flagged seen yet (the
    connection may drop between our commit and the flagging): the next sync flags them.
    """

    _name = "crm.shop.folder.state"
    _description = "IMAP folder sync state"
    _order = "mailbox_id, name"

    mailbox_id = fields.Many2one("crm.shop.mailbox", required=True, ondelete="cascade")
    name = fields.Char(string="Folder", required=True)
    uidvalidity = fields.Char(string="UIDVALIDITY", readonly=True)
    last_uid = fields.Integer(string="Last stored UID", readonly=True)
    last_sync_date = fields.Datetime(readonly=True)
    unflagged_uids = fields.Text(
        readonly=True,
        help="UIDs stored but not yet flagged seen on the server (retried on the next sync).",
    )

    _mailbox_folder_uniq = models.UniqueIndex("(mailbox_id, name)")
