from odoo import api, fields, models


class CrmShopFolder(models.Model):
    _name = "crm.shop.folder"
    _description = "Team inbox folder"
    _parent_store = True
    _parent_name = "parent_id"
    _order = "complete_name, id"
    _rec_name = "complete_name"

    name = fields.Char(required=True, translate=True)
    complete_name = fields.Char(compute="_compute_complete_name", store=True, recursive=True)
    parent_id = fields.Many2one("crm.shop.folder", string="Parent folder", ondelete="restrict")
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("crm.shop.folder", "parent_id", string="Subfolders")
    active = fields.Boolean(default=True)
    case_ids = fields.One2many("crm.shop.case", "folder_id", string="Cases")
    case_count = fields.Integer(compute="_compute_case_count")

    _check_parent = models.Constraint("CHECK(parent_id != id)", "A folder cannot contain itself.")

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for folder in self:
            if folder.parent_id:
                folder.complete_name = f"{folder.parent_id.complete_name} / {folder.name}"
            else:
                folder.complete_name = folder.name

    def _compute_case_count(self):
        counts = dict(
            self.env["crm.shop.case"]._read_group(
                [("folder_id", "child_of", self.ids)], ["folder_id"], ["__count"]
            )
        )
        for folder in self:
            folder.case_count = sum(
                count
                for sub, count in counts.items()
                if sub.parent_path.startswith(folder.parent_path)
            )

    def action_open_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_shop.crm_shop_case_action")
        action["domain"] = [("folder_id", "child_of", self.id)]
        action["context"] = {"default_folder_id": self.id}
        return action
