from odoo import models
from odoo.fields import Domain


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _shop_find_products(self, order, company):
        """``{line index: product}`` of the order's lines found by SKU, then by EAN."""
        skus = [line.sku for line in order.lines if line.sku]
        eans = [line.ean for line in order.lines if line.ean]
        base = Domain("company_id", "in", [company.id, False]) & Domain("sale_ok", "=", True)
        by_sku, by_ean = {}, {}
        if skus:
            for product in self.search(base & Domain("default_code", "in", skus), order="id"):
                by_sku.setdefault(product.default_code, product)
        if eans:
            for product in self.search(base & Domain("barcode", "in", eans), order="id"):
                by_ean.setdefault(product.barcode, product)
        found = {}
        for index, line in enumerate(order.lines):
            product = by_sku.get(line.sku) or by_ean.get(line.ean)
            if product:
                found[index] = product
        return found
