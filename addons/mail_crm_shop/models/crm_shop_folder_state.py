from odoo import fields, models


class CrmShopFolderState(models.Model):
    """How far one IMAP folder of a mailbox has been stored.

    ``uidvalidity`` is kept as text: it is an opaque 32-bit unsigned identity that only
    ever gets compared for equality. ``last_uid`` is the highest UID stored under it.
    """

    _name = "crm.shop.folder.state"
    _description = "IMAP folder sync state"
    _order = "mailbox_id, name"

    mailbox_id = fields.Many2one("crm.shop.mailbox", required=True, ondelete="cascade")
    name = fields.Char(string="Folder", required=True)
    uidvalidity = fields.Char(string="UIDVALIDITY", readonly=True)
    last_uid = fields.Integer(string="Last stored UID", readonly=True)
    last_sync_date = fields.Datetime(readonly=True)

    _mailbox_folder_uniq = models.UniqueIndex("(mailbox_id, name)")
