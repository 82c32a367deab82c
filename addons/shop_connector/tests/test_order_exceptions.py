from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from .common import ShopConnectorCase, clean_shopify_payload, shopify_payload

LATER = "2024-07-02T09:00:00+02:00"


@tagged("post_install", "-at_install")
class TestOrderExceptions(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()

    def _run(self, *payloads):
        self._import(self.backend, [(list(payloads), None)])
        self._process()
        records = self._imports(self.backend)
        self.assertEqual(set(records.mapped("state")), {"done"}, records.mapped("last_error"))
        return records.sale_order_id

    def _cases(self, sale_orders):
        return self.env["crm.shop.case"].search([("sale_order_id", "in", sale_orders.ids)])

    def _assert_one_case(self, payload, code):
        sale_order = self._run(payload)
        cases = self._cases(sale_order)
        self.assertEqual(cases.mapped("shop_exception_code"), [code])
        self.assertEqual(cases.queue_id, self.queue)
        self.assertEqual(cases.partner_id, sale_order.partner_id)
        self.assertEqual(cases.shop_backend_id, self.backend)
        self.assertEqual(cases.shop_order_import_id.sale_order_id, sale_order)
        self.assertEqual(sale_order.shop_release_state, "exception", "the order is held")
        self.assertEqual(sale_order.state, "draft")
        return cases

    def test_customer_note(self):
        self._create_sample_products()
        case = self._assert_one_case(clean_shopify_payload(note="Bitte klingeln"), "customer_note")
        self.assertIn("Bitte klingeln", case.description)

    def test_unknown_product_keeps_a_note_line(self):
        self._create_product(name="Bio-T-Shirt", default_code="TS-100-BLK-M")
        case = self._assert_one_case(clean_shopify_payload(), "unknown_product")
        self.assertIn("BECHER-01", case.description)
        note = case.sale_order_id.order_line.filtered(lambda line: line.display_type)
        self.assertIn("BECHER-01", note.name)

    def test_totals_mismatch(self):
        self._create_sample_products()
        self._assert_one_case(clean_shopify_payload(total_price="66.52"), "totals_mismatch")

    def test_tolerance_comes_from_the_backend(self):
        self._create_sample_products()
        self.backend.price_tolerance = 10
        sale_order = self._run(clean_shopify_payload(total_price="66.52"))
        self.assertFalse(self._cases(sale_order))

    def test_invalid_address(self):
        self._create_sample_products()
        payload = clean_shopify_payload()
        payload["shipping_address"] = dict(payload["billing_address"], zip="123")
        self._assert_one_case(payload, "invalid_address")

    def test_bulky_product_to_a_packstation(self):
        self._create_sample_products(shop_is_bulky=True)
        payload = clean_shopify_payload(shipping_address=shopify_payload()["shipping_address"])
        self._assert_one_case(payload, "packstation_bulky")

    def test_packstation_without_post_number(self):
        self._create_sample_products()
        packstation = dict(shopify_payload()["shipping_address"], address2="")
        self._assert_one_case(
            clean_shopify_payload(shipping_address=packstation), "packstation_post_number"
        )

    def test_possible_duplicate(self):
        self._create_sample_products()
        self._run(clean_shopify_payload())
        self._run(clean_shopify_payload(id=2, name="#1043"))
        second = self._imports(self.backend).filtered(lambda r: r.external_id == "2")
        cases = self._cases(second.sale_order_id)
        self.assertEqual(cases.mapped("shop_exception_code"), ["possible_duplicate"])
        self.assertIn("#1042", cases.description)

    def test_several_reasons_one_case_each_and_none_twice(self):
        sale_order = self._run(shopify_payload())  # note + two unknown products
        cases = self._cases(sale_order)
        self.assertEqual(
            sorted(cases.mapped("shop_exception_code")), ["customer_note", "unknown_product"]
        )
        self._import(self.backend, [([shopify_payload(updated_at=LATER)], None)])
        self._process()
        self.assertEqual(self._cases(sale_order), cases, "re-processing opens no second case")

    def test_resolving_the_last_case_resumes_the_order(self):
        sale_order = self._run(shopify_payload())
        note_case, product_case = self._cases(sale_order).sorted("shop_exception_code")
        sale_order_class = type(self.env["sale.order"])
        with patch.object(sale_order_class, "action_shop_resume", autospec=True) as resume:
            note_case.state = "done"
            resume.assert_not_called()
            product_case.state = "done"
            resume.assert_called_once()
            self.assertEqual(resume.call_args.args[0], sale_order)

    def test_resolving_releases_the_held_order(self):
        self._create_sample_products()
        sale_order = self._run(clean_shopify_payload(note="Geschenkpapier bitte"))
        self._cases(sale_order).state = "done"
        self.assertEqual(sale_order.shop_release_state, "released")
        self.assertEqual(sale_order.state, "sale")

    def test_an_agent_resolving_the_case_releases_the_order(self):
        agent = new_test_user(self.env, login="agent", groups="mail_crm_shop.group_user")
        self.queue.member_ids = agent
        self._create_sample_products()
        sale_order = self._run(clean_shopify_payload(note="Bitte klingeln"))
        self._cases(sale_order).with_user(agent).state = "done"
        self.assertEqual(sale_order.shop_release_state, "released")

    def test_release_exception_case_also_holds_the_order(self):
        sale_order = self._run(shopify_payload())
        sale_order._shop_raise_exception("Credit limit exceeded")
        release_case = sale_order.shop_case_id
        sale_order_class = type(self.env["sale.order"])
        with patch.object(sale_order_class, "action_shop_resume", autospec=True) as resume:
            self._cases(sale_order).filtered("shop_exception_code").state = "done"
            resume.assert_not_called()
            release_case.state = "done"
            resume.assert_called_once()
