from odoo import fields, models


class ReviewPlatform(models.Model):
    _name = "review.platform"
    _description = "Review platform"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    platform_type = fields.Selection(
        [
            ("shop", "Own shop review page"),
            ("trusted_shops", "Trusted Shops"),
            ("google", "Google"),
            ("amazon", "Amazon"),
            ("ebay", "eBay"),
            ("url", "Any URL"),
        ],
        required=True,
        default="url",
    )
    url_template = fields.Char(
        string="Link template",
        required=True,
        help="Placeholders: {order}, {product}, {ean}, {lang}.",
    )
    supports_product_reviews = fields.Boolean(string="Product reviews")
