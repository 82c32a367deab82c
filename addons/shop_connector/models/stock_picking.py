from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        res = super()._action_done()
        # warehouse staff need no sales or shop rights: the shop follow-up runs for the system
        shipped = self.sudo().filtered(
            lambda p: (
                p.state == "done"
                and p.picking_type_code == "outgoing"
                and p.sale_id.shop_backend_id
            )
        )
        for picking in shipped:
            picking.sale_id._shop_after_delivery(picking)
        self.sudo().move_ids.product_id.product_tmpl_id._shop_check_stock_threshold()
        return res

    def _shop_send_shipping_mail(self):
        """Tell the customer the parcel left, with carrier and tracking link."""
        self.ensure_one()
        template = self.env.ref("shop_connector.mail_template_shop_shipped")
        if self.sale_id and not self.sale_id._shop_customer_has_email(template):
            return
        self.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
