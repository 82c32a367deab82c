from odoo import fields, models
from odoo.fields import Domain

from ..services.order_checks import customer_match_keys


class ResPartner(models.Model):
    _inherit = "res.partner"

    shop_match_key = fields.Char(
        string="Shop customer key",
        index="btree_not_null",
        copy=False,
        help="Name, ZIP and street of a marketplace buyer whose e-mail address is masked.",
    )

    def _shop_find_or_create_customer(self, order, company):
        """The customer of ``order`` (found by e-mail or, for marketplace relay addresses, by
        name + ZIP + street), plus its invoice and delivery addresses (created if new)."""
        keys = customer_match_keys(order)
        customer = self._shop_find_customer(keys, company)
        if not customer:
            customer = self.create(self._shop_prepare_customer_vals(order, keys, company))
        billing = order.billing if order.billing.street else order.shipping
        invoice = customer._shop_address(billing, "invoice", order)
        delivery = customer._shop_address(order.shipping, "delivery", order)
        return customer, invoice, delivery

    def _shop_find_customer(self, keys, company):
        base = Domain("parent_id", "=", False) & Domain("company_id", "in", [company.id, False])
        for key in keys:
            kind, _sep, email = key.partition(":")
            if kind == "email":
                domain = Domain("email_normalized", "=", email)
            else:
                domain = Domain("shop_match_key", "=", key)
            partner = self.search(base & domain, limit=1, order="id")
            if partner:
                return partner.commercial_partner_id
        return self.browse()

    def _shop_prepare_customer_vals(self, order, keys, company):
        address = order.billing if order.billing.street else order.shipping
        customer = order.customer
        return {
            "name": customer.company or customer.name or address.name or order.number,
            "is_company": bool(customer.company),
            "email": "" if customer.is_masked_marketplace_email else customer.email,
            "phone": customer.phone,
            "company_id": company.id,
            "shop_match_key": next((k for k in keys if k.startswith("address:")), False),
            **self._shop_address_vals(address),
        }

    def _shop_address_vals(self, address):
        country = self.env["res.country"].search(
            [("code", "=", address.country_code or "")], limit=1
        )
        street2 = address.street2
        if address.company:
            street2 = ", ".join(x for x in (address.company, street2) if x)
        return {
            "street": address.street,
            "street2": street2,
            "zip": address.zip,
            "city": address.city,
            "country_id": country.id,
        }

    def _shop_address(self, address, kind, order):
        """The child address of this customer matching ``address``; created if missing."""
        self.ensure_one()
        if not (address.street or address.city):
            return self
        vals = self._shop_address_vals(address)
        name = address.name or order.customer.name or self.name
        domain = Domain("parent_id", "=", self.id) & Domain("type", "=", kind)
        domain &= Domain("name", "=", name)
        for field in ("street", "zip", "city", "country_id"):
            domain &= Domain(field, "=", vals[field] or False)
        found = self.search(domain, limit=1)
        return found or self.create(
            {"parent_id": self.id, "type": kind, "name": name, "email": False, **vals}
        )
