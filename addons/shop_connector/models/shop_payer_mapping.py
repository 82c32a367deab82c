from odoo import api, fields, models


class ShopPayerMapping(models.Model):
    """Learned from confirmed matches: this IBAN, PayPal e-mail or name paid for that customer."""

    _name = "shop.payer.mapping"
    _description = "Known payer"
    _order = "write_date desc, id desc"
    _rec_name = "value"

    kind = fields.Selection(
        [("iban", "IBAN"), ("email", "PayPal e-mail"), ("name", "Payer name")], required=True
    )
    value = fields.Char(required=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    match_count = fields.Integer(string="Confirmed payments", default=1, readonly=True)

    _value_uniq = models.UniqueIndex(
        "(company_id, kind, value)", "This payer is already mapped to a customer."
    )

    @api.model
    def _known_payers(self, company):
        """IBAN / e-mail -> partner id, as the matcher's ``known_payers``."""
        mappings = self.search([("company_id", "=", company.id), ("kind", "in", ("iban", "email"))])
        return {mapping.value: mapping.partner_id.id for mapping in mappings}

    @api.model
    def _known_payer_names(self, company):
        """Payer name -> partner id, as the matcher's ``learned_names`` (it normalises them)."""
        mappings = self.search([("company_id", "=", company.id), ("kind", "=", "name")])
        return {mapping.value: mapping.partner_id.id for mapping in mappings}

    @api.model
    def _learn(self, line, partner):
        """Remember who paid on ``line`` (a confirmed statement line) for ``partner``."""
        partner = partner.commercial_partner_id
        if not partner:
            return
        values = {
            "iban": (line.account_number or "").replace(" ", "").upper(),
            "email": (line.shop_payer_email or "").strip().lower(),
            "name": " ".join((line.partner_name or "").split()),
        }
        company = line.company_id
        for kind, value in values.items():
            if not value:
                continue
            mapping = self.search(
                [("company_id", "=", company.id), ("kind", "=", kind), ("value", "=", value)]
            )
            if mapping:
                mapping.write({"partner_id": partner.id, "match_count": mapping.match_count + 1})
            else:
                self.create(
                    {
                        "kind": kind,
                        "value": value,
                        "partner_id": partner.id,
                        "company_id": company.id,
                    }
                )
