from odoo import api, models


class ResUsers(models.Model):
    """A user who joins the team inbox of a company (its group, or a company) becomes a
    member of that company's default exception queue: the whole team sees what waits
    for a person. Managers may remove members; later edits do not add them back."""

    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        users._shop_join_default_queues({})
        return users

    def write(self, vals):
        if not {"group_ids", "company_ids", "share", "active"} & set(vals):
            return super().write(vals)
        before = self._shop_team_companies()
        result = super().write(vals)
        self._shop_join_default_queues(before)
        return result

    def _shop_team_companies(self):
        """user -> the companies whose team inbox the user works in."""
        group = self.env.ref("mail_crm_shop.group_user", raise_if_not_found=False)
        if not group:
            return {}
        return {
            user: user.company_ids
            for user in self.sudo()
            if user.active and not user.share and group in user.all_group_ids
        }

    def _shop_join_default_queues(self, before):
        Queue = self.env["crm.shop.queue"].sudo()
        for user, companies in self._shop_team_companies().items():
            for company in companies - before.get(user, companies.browse()):
                queue = Queue._shop_find_default_exception_queue(company)
                if queue and user not in queue.member_ids:
                    queue.member_ids = [(4, user.id)]
