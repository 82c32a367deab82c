from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ...mail_crm_shop.services.errors import PermanentError
from ..services.links import LinkValues, render_link, template_placeholders


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
        help="Placeholders: {order}, {product}, {ean}, {lang}. Values are URL-encoded.",
    )
    supports_product_reviews = fields.Boolean(
        string="Product reviews",
        help="One link per product in the invitation instead of one link per order.",
    )

    @api.constrains("url_template")
    def _check_url_template(self):
        for platform in self:
            try:
                template_placeholders(platform.url_template)
            except PermanentError as exc:
                raise ValidationError(
                    self.env._(
                        "Invalid link template for %(platform)s: %(error)s",
                        platform=platform.name,
                        error=str(exc),
                    )
                ) from exc

    @api.private
    def _render_link(self, order, product=None, lang=""):
        """Return this platform's link for ``order`` (and ``product``)."""
        self.ensure_one()
        values = LinkValues(
            order=order.name or "",
            product=(product.display_name or "") if product else "",
            ean=(product.barcode or "") if product else "",
            lang=lang or "",
        )
        return render_link(self.url_template, values)
