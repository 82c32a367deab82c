from odoo.tests import tagged

from .common import ShopConnectorCase, clean_shopify_payload

LATER = "2024-07-02T09:00:00+02:00"


def shipping_lines(code, title=None):
    return [{"id": 1, "code": code, "title": code if title is None else title, "price": "4.90"}]


@tagged("post_install", "-at_install")
class TestCarrierMapping(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls._create_sample_products()
        cls.dhl = cls._create_carrier(name="DHL Paket")
        cls.hermes = cls._create_carrier(name="Hermes")
        cls.backend = cls._create_shopify_backend(
            carrier_map_ids=[(0, 0, {"shop_code": "DHL Paket", "carrier_id": cls.dhl.id})]
        )

    @classmethod
    def _create_carrier(cls, **overrides):
        product = cls.env["product.product"].create({"name": "Shipping", "type": "service"})
        return cls.env["delivery.carrier"].create({"product_id": product.id, **overrides})

    def _import_and_process(self, payload):
        self._import(self.backend, [([payload], None)])
        self._process()
        record = self._imports(self.backend)
        self.assertEqual(record.state, "done", record.last_error)
        return record.sale_order_id

    def _notes_about(self, sale_order, text):
        return sale_order.message_ids.filtered(lambda m: text in (m.body or ""))

    def test_mapped_code_sets_the_carrier_of_the_order_and_its_delivery(self):
        sale_order = self._import_and_process(clean_shopify_payload())
        self.assertEqual(sale_order.carrier_id, self.dhl)
        self.assertEqual(sale_order.shop_release_state, "released", "paid by PayPal")
        self.assertEqual(sale_order.state, "sale")
        self.assertTrue(sale_order.picking_ids)
        self.assertEqual(sale_order.picking_ids.carrier_id, self.dhl)
        self.assertFalse(self._notes_about(sale_order, "not mapped"))

    def test_mapping_matches_the_title_and_ignores_case(self):
        payload = clean_shopify_payload(shipping_lines=shipping_lines("dhl_de_1", " dhl paket"))
        sale_order = self._import_and_process(payload)
        self.assertEqual(sale_order.carrier_id, self.dhl)

    def test_unmapped_code_leaves_the_carrier_empty_with_a_note(self):
        sale_order = self._import_and_process(
            clean_shopify_payload(shipping_lines=shipping_lines("hermes_std", "Hermes Standard"))
        )
        self.assertFalse(sale_order.carrier_id)
        self.assertEqual(len(self._notes_about(sale_order, "Hermes Standard (hermes_std)")), 1)
        # not an exception: the order goes on, its delivery just has no carrier yet
        self.assertEqual(sale_order.shop_release_state, "released")
        self.assertFalse(sale_order.shop_case_id)
        self.assertFalse(sale_order.picking_ids.carrier_id)

    def test_order_without_shipping_method_gets_no_note(self):
        sale_order = self._import_and_process(clean_shopify_payload(shipping_lines=[]))
        self.assertFalse(sale_order.carrier_id)
        self.assertFalse(self._notes_about(sale_order, "not mapped"))

    def test_unmapped_code_uses_the_default_carrier(self):
        self.backend.default_carrier_id = self.hermes
        sale_order = self._import_and_process(
            clean_shopify_payload(shipping_lines=shipping_lines("Express"))
        )
        self.assertEqual(sale_order.carrier_id, self.hermes)
        self.assertEqual(sale_order.picking_ids.carrier_id, self.hermes)
        self.assertFalse(self._notes_about(sale_order, "not mapped"))

    def test_mapping_wins_over_the_default_carrier(self):
        self.backend.default_carrier_id = self.hermes
        sale_order = self._import_and_process(clean_shopify_payload())
        self.assertEqual(sale_order.carrier_id, self.dhl)

    def test_release_uses_the_default_set_after_the_import(self):
        payload = clean_shopify_payload(
            payment_gateway_names=["bank_transfer"],
            financial_status="pending",
            shipping_lines=shipping_lines("Express"),
        )
        sale_order = self._import_and_process(payload)
        self.assertEqual(sale_order.shop_release_state, "waiting_payment")
        self.assertFalse(sale_order.carrier_id)
        self.backend.default_carrier_id = self.hermes
        sale_order.action_shop_payment_received()
        self.assertEqual(sale_order.state, "sale")
        self.assertEqual(sale_order.carrier_id, self.hermes)
        self.assertEqual(sale_order.picking_ids.carrier_id, self.hermes)

    def test_release_keeps_a_carrier_chosen_by_hand(self):
        payload = clean_shopify_payload(
            payment_gateway_names=["bank_transfer"], financial_status="pending"
        )
        sale_order = self._import_and_process(payload)
        self.assertEqual(sale_order.carrier_id, self.dhl)
        sale_order.carrier_id = self.hermes
        self.backend.default_carrier_id = self.dhl
        sale_order.action_shop_payment_received()
        self.assertEqual(sale_order.picking_ids.carrier_id, self.hermes)

    def test_changed_shipping_method_updates_the_quotation(self):
        payload = clean_shopify_payload(
            payment_gateway_names=["bank_transfer"], financial_status="pending"
        )
        sale_order = self._import_and_process(payload)
        self.assertEqual((sale_order.state, sale_order.carrier_id), ("draft", self.dhl))
        self.env["shop.carrier.map"].create(
            {"backend_id": self.backend.id, "shop_code": "Hermes", "carrier_id": self.hermes.id}
        )
        payload.update(updated_at=LATER, shipping_lines=shipping_lines("Hermes"))
        self.assertEqual(self._import_and_process(payload), sale_order, "the same quotation")
        self.assertEqual(sale_order.carrier_id, self.hermes)
