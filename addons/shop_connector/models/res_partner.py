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
        is_new = not customer
        if is_new:
            customer = self.create(self._shop_prepare_customer_vals(order, keys, company))
        billing = order.billing if order.billing.street else order.shipping
        invoice, delivery = customer._shop_addresses(
            [(billing, "invoice"), (order.shipping, "delivery")], order, is_new
        )
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

    def _shop_country_id(self, code):
        """The id of the country with ISO ``code`` (False if none), looked up once per
        cursor: every imported order asks for the same few countries."""
        known = self.env.cr.cache.setdefault("shop_country_ids", {})
        code = (code or "").upper()
        if code not in known:
            known[code] = self.env["res.country"].search([("code", "=", code)], limit=1).id
        return known[code]

    def _shop_address_vals(self, address):
        street2 = address.street2
        if address.company:
            street2 = ", ".join(x for x in (address.company, street2) if x)
        return {
            "street": address.street,
            "street2": street2,
            "zip": address.zip,
            "city": address.city,
            "country_id": self._shop_country_id(address.country_code),
        }

    def _shop_addresses(self, wanted, order, is_new=False):
        """The child addresses of this customer matching ``wanted`` (``(address, type)``
        pairs), in that order; the missing ones are created together. A customer created
        just now has no children: nothing is searched then."""
        self.ensure_one()
        found, missing = [], []
        for address, kind in wanted:
            if not (address.street or address.city):
                found.append(self)
                continue
            vals = {
                "parent_id": self.id,
                "type": kind,
                "name": address.name or order.customer.name or self.name,
                "email": False,
                **self._shop_address_vals(address),
            }
            partner = self.browse() if is_new else self._shop_find_address(vals)
            found.append(partner)
            if not partner:
                missing.append((len(found) - 1, vals))
        if missing:
            created = self.create([vals for _index, vals in missing])
            for (index, _vals), partner in zip(missing, created, strict=True):
                found[index] = partner
        return found

    def _shop_find_address(self, vals):
        domain = Domain("parent_id", "=", vals["parent_id"]) & Domain("type", "=", vals["type"])
        domain &= Domain("name", "=", vals["name"])
        for field in ("street", "zip", "city", "country_id"):
            domain &= Domain(field, "=", vals[field] or False)
        return self.search(domain, limit=1)
