from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    review_delay_days = fields.Integer(
        string="Review invitation after (days)",
        default=7,
        help="Days after delivery before the review invitation goes out.",
    )
    review_reminder_days = fields.Integer(
        string="Review reminder after (days)",
        default=0,
        help="Days after the invitation before one reminder if the link was not clicked; "
        "0 sends no reminder.",
    )
    review_existing_customer = fields.Boolean(
        string="Invite existing customers without consent",
        help="UWG §7(3): the address was obtained with a sale and is used for the shop's "
        "own similar goods. Every invitation carries the opt-out notice.",
    )
    review_objection_notice = fields.Boolean(
        string="Customers are told at checkout they may object",
        help="Required for the existing-customer exception.",
    )
    review_hold_policy = fields.Selection(
        [("wait", "Send once resolved"), ("drop", "Do not send")],
        string="Invitation on open issues",
        default="wait",
        required=True,
    )
    review_queue_id = fields.Many2one(
        "crm.shop.queue", string="Queue for review replies", ondelete="set null"
    )
