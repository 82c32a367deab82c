from email.utils import parseaddr

from odoo import models
from odoo.tools import email_normalize


class CrmShopCase(models.Model):
    """The case side of two features of the shared mailbox.

    * Seen flags follow the case (mailbox option ``sync_read_state``): a case is *read*
      once its state left ``new`` (a person opened it with "Work on this" or "Assign to
      me", answered, set it waiting or closed it); set back to ``new`` it is unread again.
      Every state change records the wanted flag on the case's inbound mails; the mailbox
      sync cron applies it on the server (never IMAP inside the user's transaction).
    * The first reply of a person to a sender without a contact links the sender's contact
      (created when no contact has that address) and addresses the reply to it.
    """

    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            self._request_server_seen()
        return result

    def _server_seen_wanted(self):
        """Whether the mails of this case should be flagged seen on the server."""
        self.ensure_one()
        return self.state != "new"

    def _request_server_seen(self):
        """Record the flag wanted on the inbound mails of mailboxes that sync it."""
        InboundMail = self.env["crm.shop.inbound.mail"].sudo()  # agents cannot read them
        for seen in (True, False):
            cases = self.filtered(lambda case, seen=seen: case._server_seen_wanted() == seen)
            if not cases:
                continue
            changed = InboundMail.search(
                [
                    ("case_id", "in", cases.ids),
                    ("mailbox_id.sync_read_state", "=", True),
                    ("server_seen_wanted", "=", not seen),
                ]
            )
            changed.write({"server_seen_wanted": seen, "server_seen_synced": False})

    # --- contact on first reply ---------------------------------------------------

    def message_post(self, *, message_type="notification", **kwargs):
        if (
            len(self) == 1
            and not self.partner_id
            and not self.env.user._is_superuser()
            and self._is_reply(message_type, kwargs.get("subtype_xmlid"), kwargs.get("subtype_id"))
        ):
            partner = self._link_sender_contact()
            recipients = list(kwargs.get("partner_ids") or [])
            if partner and partner.id not in recipients:
                kwargs["partner_ids"] = [*recipients, partner.id]
        return super().message_post(message_type=message_type, **kwargs)

    def _link_sender_contact(self):
        """Link the contact of the sender address (created if none has it); return it.

        Agents may not create contacts: this is done as superuser, like the mail gateway
        that opened the case. Our own mailbox addresses never become a customer.
        """
        self.ensure_one()
        address = email_normalize(parseaddr(self.email_from or "")[1])
        own = self.env["crm.shop.mailbox"].sudo().with_context(active_test=False).search([])
        if not address or address in own._get_own_addresses():
            return self.env["res.partner"]
        self.sudo().action_create_partner()
        return self.partner_id
