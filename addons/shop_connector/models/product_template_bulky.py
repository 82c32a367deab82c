from odoo import fields, models


# kept apart from the stock write-back's product_template.py (another work package)
class ProductTemplate(models.Model):
    """The order import's product flag (the stock write-back has ``product_template.py``)."""

    _inherit = "product.template"  # pylint: disable=consider-merging-classes-inherited

    shop_is_bulky = fields.Boolean(
        string="Bulky (no Packstation)",
        help="Does not fit into a DHL Packstation or post office: such orders are held.",
    )
