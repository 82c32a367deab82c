from odoo import fields, models


class CrmShopQueue(models.Model):
    _name = "crm.shop.queue"
    _description = "Team inbox queue"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    member_ids = fields.Many2many(
        "res.users",
        "crm_shop_queue_member_rel",
        "queue_id",
        "user_id",
        string="Members",
        domain=[("share", "=", False)],
    )
    assignment_mode = fields.Selection(
        [
            ("manual", "Manual"),
            ("round_robin", "Round robin"),
            ("least_open", "Least open cases"),
        ],
        default="manual",
        required=True,
    )
    case_ids = fields.One2many("crm.shop.case", "queue_id", string="Cases")
    open_case_count = fields.Integer(compute="_compute_open_case_count")

    def _compute_open_case_count(self):
        counts = dict(
            self.env["crm.shop.case"]._read_group(
                [("queue_id", "in", self.ids), ("state", "not in", ("done", "archived"))],
                ["queue_id"],
                ["__count"],
            )
        )
        for queue in self:
            queue.open_case_count = counts.get(queue, 0)
