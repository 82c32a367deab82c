from odoo import fields, models

from .crm_shop_mail_tracking import TRACKING_STATUSES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # a customer's mail quoting an order name finds it by equality (core's index on the
    # name is a trigram one, for ilike searches)
    _crm_shop_name_idx = models.Index("(name)")

    crm_shop_mail_status = fields.Selection(
        TRACKING_STATUSES,
        string="Mail status",
        compute="_compute_crm_shop_mail_status",
        help="What became of the latest mail sent about this order.",
    )

    def _compute_crm_shop_mail_status(self):
        latest = self.env["crm.shop.mail.tracking"].sudo()._for_documents(self._name, self.ids)
        for order in self:
            tracking = latest.get(order.id)
            order.crm_shop_mail_status = tracking.status if tracking else False
