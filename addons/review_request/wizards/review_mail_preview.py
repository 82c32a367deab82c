from markupsafe import Markup

from odoo import api, fields, models


class ReviewMailPreview(models.TransientModel):
    """Render the invitation of a chosen (or the latest) order without sending it."""

    _name = "review.mail.preview"
    _description = "Review mail preview"

    sale_order_id = fields.Many2one(
        "sale.order", string="Order", required=True, default=lambda self: self._default_order()
    )
    body = fields.Html(compute="_compute_body", sanitize=False, readonly=True)

    @api.model
    def _default_order(self):
        return self.env["sale.order"].search([("order_line", "!=", False)], limit=1)

    @api.depends("sale_order_id")
    def _compute_body(self):
        for preview in self:
            if not preview.sale_order_id:
                preview.body = False
                continue
            request = self.env["review.request"].new({"sale_order_id": preview.sale_order_id.id})
            try:
                preview.body = request._compose_body(track=False)
            except Exception as exc:  # noqa: BLE001 - the preview shows why it can't render
                preview.body = Markup("<p class='text-danger'>%s</p>") % str(exc)
