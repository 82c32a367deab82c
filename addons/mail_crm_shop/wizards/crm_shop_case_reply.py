from markupsafe import Markup

from odoo import api, fields, models
from odoo.fields import Domain

from ..services.placeholders import render


class CrmShopCaseReply(models.TransientModel):
    _name = "crm.shop.case.reply"
    _description = "Reply to a case with a text block"

    case_id = fields.Many2one("crm.shop.case", required=True, ondelete="cascade")
    text_block_id = fields.Many2one(
        "crm.shop.text.block",
        string="Text block",
        required=True,
        domain="[('id', 'in', allowed_text_block_ids)]",
    )
    allowed_text_block_ids = fields.Many2many(
        "crm.shop.text.block", compute="_compute_allowed_text_block_ids"
    )
    preview = fields.Html(compute="_compute_preview", sanitize=False)
    unknown_placeholders = fields.Char(compute="_compute_preview")

    @api.depends("case_id")
    def _compute_allowed_text_block_ids(self):
        for wizard in self:
            queue = wizard.case_id.queue_id
            domain = Domain("queue_ids", "=", False)
            if queue:
                domain |= Domain("queue_ids", "in", queue.ids)
            wizard.allowed_text_block_ids = self.env["crm.shop.text.block"].search(domain)

    @api.depends("case_id", "text_block_id")
    def _compute_preview(self):
        for wizard in self:
            if not (wizard.case_id and wizard.text_block_id):
                wizard.preview = wizard.unknown_placeholders = False
                continue
            result = render(wizard.text_block_id.body, wizard.case_id._get_placeholder_context())
            wizard.preview = wizard._with_signature(Markup(result.text))
            wizard.unknown_placeholders = ", ".join(result.unknown) or False

    def _with_signature(self, body):
        signature = self.case_id.queue_id.signature
        if signature:
            return body + Markup("<br/>") + signature
        return body

    def action_open_composer(self):
        """Open the mail composer on the case, filled with the rendered text block.

        The composer is created here (not from context defaults) so that the standard
        attachments survive its onchanges; it copies them at sending, sharing the stored
        file (the filestore is content-addressed), and the text block keeps its own.
        """
        self.ensure_one()
        self.case_id._acquire_lock()
        composer = self.env["mail.compose.message"].create(
            {
                "model": self.case_id._name,
                "res_ids": self.case_id.ids,
                "composition_mode": "comment",
                "message_type": "comment",
                "subtype_id": self.env.ref("mail.mt_comment").id,
                "subject": self.case_id.name,
                "body": self.preview,
                "partner_ids": [fields.Command.set(self.case_id.partner_id.ids)],
            }
        )
        # after create: the composer's compute resets attachments without a mail template
        composer.attachment_ids = self.text_block_id.attachment_ids
        return {
            "type": "ir.actions.act_window",
            "name": self.text_block_id.name,
            "res_model": "mail.compose.message",
            "res_id": composer.id,
            "view_mode": "form",
            "views": [(self.env.ref("mail.email_compose_message_wizard_form").id, "form")],
            "target": "new",
        }
