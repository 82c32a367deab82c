from odoo.tests import TransactionCase


class ShippingExchangeCase(TransactionCase):
    """Builders for the shipping exchange tests; no demo data is assumed."""

    @classmethod
    def _create_profile(cls, **overrides):
        vals = {"name": "Carrier", "transport": "sftp", **overrides}
        return cls.env["shipping.exchange.profile"].create(vals)

    @classmethod
    def _create_picking(cls, **overrides):
        partner = cls.env["res.partner"].create({"name": "Erika Mustermann"})
        picking_type = cls.env.ref("stock.picking_type_out")
        vals = {
            "picking_type_id": picking_type.id,
            "partner_id": partner.id,
            "location_id": picking_type.default_location_src_id.id,
            "location_dest_id": cls.env.ref("stock.stock_location_customers").id,
            **overrides,
        }
        return cls.env["stock.picking"].create(vals)

    @classmethod
    def _create_record(cls, **overrides):
        vals = {
            "profile_id": overrides.pop("profile_id", None) or cls._create_profile().id,
            "picking_id": overrides.pop("picking_id", None) or cls._create_picking().id,
            **overrides,
        }
        return cls.env["shipping.exchange.record"].create(vals)
