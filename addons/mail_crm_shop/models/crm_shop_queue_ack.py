from odoo import api, fields, models

DEFAULT_ACK_TEMPLATE = "mail_crm_shop.mail_template_case_ack"


class CrmShopQueue(models.Model):
    """Automatic acknowledgement of new cases, per queue (see ``crm.shop.case._ack_new_case``)."""

    _inherit = "crm.shop.queue"  # pylint: disable=consider-merging-classes-inherited

    ack_enabled = fields.Boolean(
        string="Send acknowledgement",
        help="A customer whose mail opens a new case of this queue gets a confirmation "
        "with the case number at once. Never sent to automatic mail (out of office, "
        "bounces, mailing lists), to no-reply or own addresses.",
    )
    ack_template_id = fields.Many2one(
        "mail.template",
        string="Acknowledgement template",
        domain=[("model", "=", "crm.shop.case")],
        default=lambda self: self._default_ack_template(),
        ondelete="set null",
        help="Mail sent as acknowledgement; empty: the standard one. The case token is "
        "always added to its subject, so the customer's answer finds the case.",
    )
    ack_throttle_hours = fields.Integer(
        string="At most one acknowledgement per sender within (hours)",
        default=24,
        help="A sender who got an acknowledgement from this company less than this many "
        "hours ago gets none for a further new case. 0: every new case is acknowledged.",
    )

    _ack_throttle_hours_positive = models.Constraint(
        "CHECK(ack_throttle_hours >= 0)",
        "The acknowledgement throttle cannot be negative.",
    )

    @api.model
    def _default_ack_template(self):
        return self.env.ref(DEFAULT_ACK_TEMPLATE, raise_if_not_found=False)

    def _ack_template(self):
        """The template of this queue's acknowledgements (the standard one when unset)."""
        self.ensure_one()
        return self.ack_template_id or self._default_ack_template()
