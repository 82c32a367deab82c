from odoo import api, fields, models


class CrmShopTextBlock(models.Model):
    _name = "crm.shop.text.block"
    _description = "Text block for replies"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    body = fields.Html(
        required=True,
        help="Placeholders: {{customer_name}}, {{last_order_number}}, {{last_order_state}}, "
        "{{tracking_link}}, {{open_invoice_amount}}, {{case_number}}, {{agent_name}}.",
    )
    queue_ids = fields.Many2many(
        "crm.shop.queue", string="Queues", help="Offered in these queues only; empty: everywhere."
    )
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "crm_shop_text_block_attachment_rel",
        "text_block_id",
        "attachment_id",
        string="Standard attachments",
        help="Stored once, attached to every reply that uses this text block.",
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.model_create_multi
    def create(self, vals_list):
        blocks = super().create(vals_list)
        blocks._attach_standard_attachments()
        return blocks

    def write(self, vals):
        result = super().write(vals)
        if "attachment_ids" in vals:
            self._attach_standard_attachments()
        return result

    def _attach_standard_attachments(self):
        """Own the uploaded attachments, so whoever may read the block may read them."""
        for block in self:
            loose = block.attachment_ids.sudo().filtered(
                lambda a, block=block: (
                    (a.res_model, a.res_id) != (block._name, block.id)
                    and (not a.res_id or a.res_model == "mail.compose.message")
                )
            )
            loose.write({"res_model": block._name, "res_id": block.id})
