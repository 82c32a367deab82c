from odoo import api, fields, models

CASE_STATES = [
    ("new", "New"),
    ("in_progress", "In progress"),
    ("wait_customer", "Waiting for customer"),
    ("wait_third", "Waiting for third party"),
    ("done", "Done"),
    ("archived", "Archived"),
]


class CrmShopCase(models.Model):
    _name = "crm.shop.case"
    _description = "Team inbox case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _rec_names_search = ["name", "number", "email_from"]

    number = fields.Char(readonly=True, copy=False, index=True, default="/")
    name = fields.Char(string="Title", required=True, tracking=True)
    state = fields.Selection(
        CASE_STATES, default="new", required=True, tracking=True, group_expand=True
    )
    priority = fields.Selection(
        [("0", "Normal"), ("1", "High"), ("2", "Urgent")], default="0", tracking=True
    )
    queue_id = fields.Many2one("crm.shop.queue", index=True, tracking=True)
    mailbox_id = fields.Many2one("crm.shop.mailbox", index="btree_not_null")
    user_id = fields.Many2one(
        "res.users", string="Assigned to", index=True, tracking=True, domain=[("share", "=", False)]
    )
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, tracking=True)
    email_from = fields.Char(string="From")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    is_private = fields.Boolean(
        string="Private", help="Visible only to the assigned user and managers."
    )
    description = fields.Html()
    color = fields.Integer()

    _number_uniq = models.UniqueIndex("(number, company_id) WHERE number != '/'")

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"]
        for vals in vals_list:
            if vals.get("number", "/") == "/":
                vals["number"] = sequence.next_by_code("crm.shop.case") or "/"
        return super().create(vals_list)

    @api.depends("number", "name")
    def _compute_display_name(self):
        for case in self:
            case.display_name = f"[#{case.number}] {case.name or ''}"

    def action_assign_to_me(self):
        self.write({"user_id": self.env.uid, "state": "in_progress"})
