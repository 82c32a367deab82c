from freezegun import freeze_time

from odoo.fields import Command
from odoo.tests import TransactionCase

from odoo.addons.mail_crm_shop.services.errors import PermanentError


class FakeTransport:
    """Stands in for the FTP/SFTP/HTTP clients: records uploads, serves a folder."""

    def __init__(self, fail_with=None, result=None):
        self.fail_with = fail_with
        self.result = result
        self.uploads = []
        self.files = {}  # name -> bytes, the carrier's confirmation folder
        self.moved = {}  # name -> "done" | "error"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def upload(self, name, data):
        if self.fail_with:
            raise self.fail_with
        self.uploads.append((name, data))
        return self.result or f"/in/{name}"

    def list_files(self):
        return sorted(n for n in self.files if n not in self.moved)

    def download(self, name):
        if name not in self.files:
            raise PermanentError(f"{name} vanished")
        return self.files[name]

    def move(self, name, folder):
        self.moved[name] = folder
        return f"/out/{folder}/{name}"


class ShippingExchangeCase(TransactionCase):
    """Builders for the shipping exchange tests; no demo data is assumed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.germany = cls.env.ref("base.de")
        cls.product = cls._create_product(default_code="SKU-1", barcode="4006381333931")

    def _run_cron(self, xmlid, when=None):
        cron = self.env.ref(f"shipping_exchange.{xmlid}")
        if when:
            with freeze_time(when), self.enter_registry_test_mode():
                cron.method_direct_trigger()
        else:
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()

    def _use_transport(self, transport):
        self.patch(
            self.registry["shipping.exchange.profile"],
            "_get_transport_adapter",
            lambda profile: transport,
        )
        return transport

    @classmethod
    def _create_product(cls, **overrides):
        vals = {
            "name": "Teapot",
            "type": "consu",
            "default_code": "SKU-X",
            "weight": 1.5,
            **overrides,
        }
        return cls.env["product.product"].create(vals)

    @classmethod
    def _create_partner(cls, **overrides):
        vals = {
            "name": "Erika Mustermann",
            "street": "Heidestraße 17",
            "zip": "51147",
            "city": "Köln",
            "country_id": cls.env.ref("base.de").id,
            "email": "erika@example.com",
            **overrides,
        }
        return cls.env["res.partner"].create(vals)

    @classmethod
    def _create_profile(cls, **overrides):
        vals = {"name": "Carrier", "transport": "sftp", "shipper_code": "ACME", **overrides}
        return cls.env["shipping.exchange.profile"].create(vals)

    @classmethod
    def _create_rule(cls, **overrides):
        vals = {
            "name": "Rule",
            "profile_id": overrides.pop("profile_id", None) or cls._create_profile().id,
            **overrides,
        }
        return cls.env["shipping.exchange.rule"].create(vals)

    @classmethod
    def _create_picking(cls, products=None, qty=2.0, **overrides):
        partner = overrides.pop("partner_id", None) or cls._create_partner().id
        picking_type = cls.env.ref("stock.picking_type_out")
        source = picking_type.default_location_src_id
        customers = cls.env.ref("stock.stock_location_customers")
        vals = {
            "picking_type_id": picking_type.id,
            "partner_id": partner,
            "location_id": source.id,
            "location_dest_id": customers.id,
            "move_ids": [
                (
                    0,
                    0,
                    {
                        "product_id": product.id,
                        "product_uom_qty": qty,
                        "location_id": source.id,
                        "location_dest_id": customers.id,
                    },
                )
                for product in (products if products is not None else cls.product)
            ],
            **overrides,
        }
        return cls.env["stock.picking"].create(vals)

    @classmethod
    def _create_ready_picking(cls, **overrides):
        picking = cls._create_picking(**overrides)
        picking.action_confirm()
        picking.action_assign()
        return picking

    @classmethod
    def _create_record(cls, **overrides):
        vals = {
            "profile_id": overrides.pop("profile_id", None) or cls._create_profile().id,
            "picking_id": overrides.pop("picking_id", None) or cls._create_picking().id,
            "next_attempt_date": False,  # due whatever time the test freezes
            **overrides,
        }
        return cls.env["shipping.exchange.record"].create(vals)

    # --- stock -------------------------------------------------------------------------

    def _stock_location(self):
        return self.env.ref("stock.picking_type_out").default_location_src_id

    def _put_in_stock(self, product, qty):
        self.env["stock.quant"]._update_available_quantity(product, self._stock_location(), qty)

    def _receive_goods(self, quantities):
        """A supplier's receipt of {product: qty} into stock, validated by the warehouse."""
        suppliers = self.env.ref("stock.stock_location_suppliers")
        stock = self._stock_location()
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.env.ref("stock.picking_type_in").id,
                "location_id": suppliers.id,
                "location_dest_id": stock.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "location_id": suppliers.id,
                            "location_dest_id": stock.id,
                        }
                    )
                    for product, qty in quantities.items()
                ],
            }
        )
        receipt.action_confirm()
        for move in receipt.move_ids:
            move.write({"quantity": move.product_uom_qty, "picked": True})
        receipt.button_validate()
        self.assertEqual(receipt.state, "done")
