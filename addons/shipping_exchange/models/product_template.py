from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    shipping_length_cm = fields.Float(string="Length (cm)", help="Packed size, for carrier rules.")
    shipping_width_cm = fields.Float(string="Width (cm)")
    shipping_height_cm = fields.Float(string="Height (cm)")
