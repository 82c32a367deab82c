from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    review_consent = fields.Boolean(
        string="Consents to review invitations", tracking=True, copy=False
    )
    review_consent_date = fields.Datetime(string="Review consent given on", copy=False)
    review_opt_out_date = fields.Datetime(
        string="Opted out of review invitations on", copy=False, tracking=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("review_consent") and not vals.get("review_consent_date"):
                vals["review_consent_date"] = fields.Datetime.now()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("review_consent") and "review_consent_date" not in vals:
            vals["review_consent_date"] = fields.Datetime.now()
        return super().write(vals)

    def _review_same_address(self):
        """These contacts and every other contact with the same e-mail address."""
        emails = [email for email in self.mapped("email_normalized") if email]
        if not emails:
            return self
        return self | self.with_context(active_test=False).search(
            [("email_normalized", "in", emails)]
        )
