from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ...mail_crm_shop.services.errors import PermanentError
from ..services.compose import Block, check_block


class ReviewMailBlock(models.Model):
    """One block of the invitation mail; blocks are joined in sequence order."""

    _name = "review.mail.block"
    _description = "Review mail block"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [
            ("greeting", "Greeting"),
            ("thanks", "Thanks"),
            ("product", "Per product"),
            ("link", "Platform link"),
            ("help", "Help / contact"),
            ("legal", "Legal notice with opt-out"),
        ],
        required=True,
        default="thanks",
    )
    body = fields.Html(
        translate=True,
        sanitize_attributes=False,
        help="Placeholders: {customer}, {order}, {shop}, {optout_link}, {optout_url}; "
        "in per-product and platform link blocks also {product}, {platform}, {link}, "
        "{link_url}.",
    )
    team_ids = fields.Many2many("crm.team", string="Only for sales channels")
    lang_ids = fields.Many2many("res.lang", string="Only for languages")
    platform_ids = fields.Many2many("review.platform", string="Only for platforms")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.constrains("body", "kind")
    def _check_body(self):
        for block in self:
            try:
                check_block(block.kind, block.body or "")
            except PermanentError as exc:
                raise ValidationError(
                    self.env._("Block %(block)s: %(error)s", block=block.name, error=str(exc))
                ) from exc

    def _as_service_block(self):
        self.ensure_one()
        return Block(
            kind=self.kind,
            body=self.body or "",
            sequence=self.sequence,
            team_ids=frozenset(self.team_ids.ids),
            langs=frozenset(self.lang_ids.mapped("code")),
            platform_ids=frozenset(self.platform_ids.ids),
        )
