import json

from odoo import api, fields, models

from ..adapters.shops.registry import supports_write_back


class ProductTemplate(models.Model):
    """Stock write-back to the shops (the import's flags: ``product_template_bulky``)."""

    _inherit = "product.template"

    shop_stock_threshold = fields.Integer(
        string="Shop stock threshold",
        help="When the free quantity falls below this number, the shops get the exact "
        "quantity (zero when sold out). Zero: no stock updates.",
    )
    shop_backend_ids = fields.Many2many(
        "shop.backend",
        string="Listed in shops",
        help="Shops that get the stock updates; empty: every active shop of the company.",
    )

    @api.private
    def _shop_check_stock_threshold(self):
        """Queue a stock update per shop for variants below their threshold.

        A variant is queued when its free quantity is below the threshold (or the shop
        still shows a low quantity after a receipt) and differs from the quantity last
        sent to that shop, so each change goes out once.
        """
        Job = self.env["shop.sync.job"].sudo()
        for template in self.filtered(lambda t: t.shop_stock_threshold > 0 and t.is_storable):
            backends = template._shop_stock_backends()
            threshold = template.shop_stock_threshold
            for product in template.product_variant_ids.filtered("default_code"):
                free_qty = max(int(product.free_qty), 0)
                for backend in backends:
                    last = template._shop_last_pushed_qty(backend, product)
                    low = free_qty < threshold or (last is not None and last < threshold)
                    if low and last != free_qty:
                        Job._queue_stock(backend, product, free_qty)

    def _shop_stock_backends(self):
        self.ensure_one()
        listed = self.shop_backend_ids.filtered("active")
        if not listed:
            company = self.company_id or self.env.company
            listed = self.env["shop.backend"].sudo().search([("company_id", "=", company.id)])
        return listed.filtered(lambda b: supports_write_back(b.backend_type, "push_stock"))

    def _shop_last_pushed_qty(self, backend, product):
        last = (
            self.env["shop.sync.job"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    ("kind", "=", "push_stock"),
                    ("external_ref", "=", product.default_code),
                    ("state", "!=", "failed"),
                ],
                order="id desc",
                limit=1,
            )
        )
        return json.loads(last.payload)["quantity"] if last else None
