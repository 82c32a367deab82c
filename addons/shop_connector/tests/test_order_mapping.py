from dataclasses import replace

from odoo.tests import tagged

from ..adapters.shops.shopify import map_shopify_order
from .common import ShopConnectorCase, clean_shopify_payload


@tagged("post_install", "-at_install")
class TestOrderMapping(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()
        cls.shirt, cls.mug = cls._create_sample_products()

    def _import_and_process(self, payload):
        self._import(self.backend, [([payload], None)])
        self._process()
        record = self.env["shop.order.import"].search(
            [("backend_id", "=", self.backend.id), ("external_id", "=", str(payload["id"]))]
        )
        self.assertEqual(record.state, "done", record.last_error)
        return record.sale_order_id

    def test_new_customer_gets_invoice_and_delivery_addresses(self):
        payload = clean_shopify_payload()
        payload["shipping_address"] = dict(payload["billing_address"], address1="Ringstraße 5")
        sale_order = self._import_and_process(payload)
        customer = sale_order.partner_id
        self.assertEqual(customer.email, "erika.mustermann@example.de")
        self.assertEqual(customer.country_id.code, "DE")
        self.assertEqual(sale_order.partner_invoice_id.parent_id, customer)
        self.assertEqual(sale_order.partner_invoice_id.type, "invoice")
        self.assertEqual(sale_order.partner_invoice_id.street, "Heidestraße 17")
        self.assertEqual(sale_order.partner_shipping_id.type, "delivery")
        self.assertEqual(sale_order.partner_shipping_id.street, "Ringstraße 5")
        self.assertEqual(sale_order.pricelist_id, self.backend.pricelist_id)

    def test_known_customer_is_found_by_email(self):
        known = self.env["res.partner"].create(
            {"name": "E. Mustermann", "email": "Erika.Mustermann@example.de"}
        )
        sale_order = self._import_and_process(clean_shopify_payload())
        self.assertEqual(sale_order.partner_id, known)
        second = self._import_and_process(clean_shopify_payload(id=2, name="#2"))
        self.assertEqual(second.partner_invoice_id, sale_order.partner_invoice_id)

    def test_marketplace_relay_addresses_match_by_name_zip_and_street(self):
        first = clean_shopify_payload(email="a1b2@marketplace.amazon.de")
        first["customer"] = dict(first["customer"], email="a1b2@marketplace.amazon.de")
        second = clean_shopify_payload(id=2, name="#2", email="zz99@marketplace.amazon.de")
        second["customer"] = dict(second["customer"], email="zz99@marketplace.amazon.de")
        one, two = self._import_and_process(first), self._import_and_process(second)
        self.assertEqual(one.partner_id, two.partner_id)
        self.assertFalse(one.partner_id.email, "a relay address is not the customer's address")

    def test_lines_prices_and_taxes_as_the_shop_computed_them(self):
        sale_order = self._import_and_process(clean_shopify_payload())
        shirt = sale_order.order_line.filtered(lambda line: line.product_id == self.shirt)
        self.assertEqual((shirt.product_uom_qty, shirt.price_unit), (2, 24.90))
        self.assertEqual(shirt.tax_ids.amount, 19)
        self.assertTrue(shirt.tax_ids.price_include)
        shipping = self.env.ref("shop_connector.product_shop_shipping")
        discount = self.env.ref("shop_connector.product_shop_discount")
        by_product = {line.product_id: line.price_unit for line in sale_order.order_line}
        self.assertEqual(by_product[shipping], 4.90)
        self.assertEqual(by_product[discount], -6.18)
        self.assertAlmostEqual(sale_order.amount_total, 60.52, delta=0.02)
        self.assertFalse(
            self.env["crm.shop.case"].search([("sale_order_id", "=", sale_order.id)]),
            "a clean order needs nobody",
        )

    def test_second_order_reuses_the_tax(self):
        self._import_and_process(clean_shopify_payload())
        self._import_and_process(clean_shopify_payload(id=2, name="#2"))
        taxes = (
            self.env["account.tax"]
            .search([("company_id", "=", self.env.company.id), ("amount", "=", 19.0)])
            .filtered(lambda t: t.type_tax_use == "sale" and t.price_include)
        )
        self.assertEqual(len(taxes), 1)

    def test_products_found_by_sku_then_ean(self):
        by_ean = self._create_product(name="Socks", barcode="4006381333931")
        order = map_shopify_order(clean_shopify_payload())
        lines = (order.lines[0], replace(order.lines[1], sku="NOPE", ean="4006381333931"))
        found = self.env["product.product"]._shop_find_products(
            replace(order, lines=lines), self.env.company
        )
        self.assertEqual(found, {0: self.shirt, 1: by_ean})

    def test_payment_method_is_mapped(self):
        term = self.env["account.payment.term"].create({"name": "Prepaid in 7 days"})
        self.env["shop.payment.method.map"].create(
            {
                "backend_id": self.backend.id,
                "shop_code": "paypal",
                "method_kind": "prepayment",
                "payment_term_id": term.id,
            }
        )
        sale_order = self._import_and_process(clean_shopify_payload())
        self.assertEqual(sale_order.shop_payment_method, "prepayment")
        self.assertEqual(sale_order.payment_term_id, term)
        self.assertEqual(sale_order.shop_release_state, "waiting_payment")
