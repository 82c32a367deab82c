import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

# the routing lookups of the batches _cron_process is running in this process, by the
# token its records carry in their context (the batch outlives the per-mail commits)
ROUTING_BATCH_KEY = "crm_shop_routing_batch"
_RUNNING_BATCHES = {}


class CrmShopInboundMail(models.Model):
    """One mail as fetched from a mailbox folder: stored first, turned into a case later."""

    _name = "crm.shop.inbound.mail"
    _description = "Inbound mail of a team inbox mailbox"
    _inherit = ["crm.shop.work.unit.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "subject"

    mailbox_id = fields.Many2one(
        "crm.shop.mailbox", required=True, readonly=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="mailbox_id.company_id", store=True)
    folder = fields.Char(required=True, readonly=True)
    uidvalidity = fields.Char(string="UIDVALIDITY", required=True, readonly=True)
    uid = fields.Integer(string="UID", required=True, readonly=True)
    message_id = fields.Char(string="Message-ID", readonly=True, index="btree_not_null")
    dedupe_key = fields.Char(required=True, readonly=True)
    subject = fields.Char(readonly=True)
    email_from = fields.Char(string="From", readonly=True)
    received_date = fields.Datetime(string="Received", readonly=True)
    # kept once, in the mail's GoBD archive entry (crm_shop_inbound_mail_archive.py)
    raw = fields.Binary(string="Original mail", compute="_compute_raw")
    raw_filename = fields.Char(compute="_compute_raw_filename")
    is_auto_reply = fields.Boolean(string="Automatic reply", readonly=True)
    state = fields.Selection(tracking=True)
    case_id = fields.Many2one("crm.shop.case", readonly=True, index="btree_not_null")
    # the mailbox option "Seen follows the case": what the server should show, and whether
    # the next sync still has to tell it (see crm.shop.mailbox._push_seen_flags)
    server_seen_wanted = fields.Boolean(string="Seen on the server", readonly=True)
    server_seen_synced = fields.Boolean(string="Seen flag applied", default=True, readonly=True)

    _imap_uid_uniq = models.UniqueIndex("(mailbox_id, folder, uidvalidity, uid)")
    _dedupe_key_uniq = models.UniqueIndex("(mailbox_id, dedupe_key)")
    _seen_pending_idx = models.Index(
        "(mailbox_id, folder, uidvalidity) WHERE server_seen_synced IS NOT TRUE"
    )

    def write(self, vals):
        if vals.get("state") == "done":
            # the routine end of every mail: its case shows it, no tracking message each
            return super(CrmShopInboundMail, self.with_context(mail_notrack=True)).write(vals)
        return super().write(vals)

    def _compute_raw_filename(self):
        for record in self:
            record.raw_filename = f"mail-{record.id or 'new'}.eml"

    def action_open_case(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.shop.case",
            "res_id": self.case_id.id,
            "view_mode": "form",
        }

    # --- processing --------------------------------------------------------------

    @api.private
    def _push_server_seen(self, adapter):
        """Flag these mails (one folder) seen or unseen on the server as wanted."""
        for seen in (True, False):
            mails = self.filtered(lambda mail, seen=seen: mail.server_seen_wanted == seen)
            if mails:
                adapter.set_seen(mails[0].folder, mails.mapped("uid"), seen)
        self.write({"server_seen_synced": True})

    def _failure_message(self, error):
        return self.env._("This mail could not be turned into a case: %s", error)

    def _notify_failed(self, error):
        self.mailbox_id._notify_responsible(self, self.env._("Incoming mail failed"), error)

    def _get_raw(self):
        self.ensure_one()
        return self._raw_by_id().get(self.id, b"")


def running_routing_batch(env):
    """The routing batch of the ``_cron_process`` run ``env`` belongs to, or None."""
    token = env.context.get(ROUTING_BATCH_KEY)
    return _RUNNING_BATCHES.get(token) if token else None
