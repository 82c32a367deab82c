from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import ShopConnectorCase, clean_shopify_payload, shopify_payload
from .common_flow import ShopOrderFlowCase


@tagged("post_install", "-at_install")
class TestBulkyFlagOnTheProductForm(ShopConnectorCase):
    """The warehouse marks a product bulky on its form; Packstation orders of it are held."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()
        cls.shirt, cls.mug = cls._create_sample_products()
        cls.warehouse = new_test_user(
            cls.env,
            login="warehouse",
            groups="base.group_user,stock.group_stock_user,product.group_product_manager",
        )

    def _import_packstation_order(self):
        payload = clean_shopify_payload(shipping_address=shopify_payload()["shipping_address"])
        self._import(self.backend, [([payload], None)])
        self._process()
        record = self._imports(self.backend)
        self.assertEqual(record.state, "done", record.last_error)
        return record.sale_order_id

    def test_bulky_flag_set_on_the_form_holds_a_packstation_order(self):
        template = self.mug.product_tmpl_id.with_user(self.warehouse)
        with Form(template) as form:
            form.shop_is_bulky = True
        self.assertTrue(self.mug.shop_is_bulky)

        sale_order = self._import_packstation_order()
        case = self.env["crm.shop.case"].search([("sale_order_id", "=", sale_order.id)])
        self.assertEqual(case.mapped("shop_exception_code"), ["packstation_bulky"])
        self.assertIn("BECHER-01", case.description)
        self.assertNotIn("TS-100-BLK-M", case.description, "only the bulky product is named")
        self.assertEqual(sale_order.shop_release_state, "exception")

    def test_without_the_flag_the_packstation_order_goes_through(self):
        sale_order = self._import_packstation_order()
        self.assertFalse(self.env["crm.shop.case"].search([("sale_order_id", "=", sale_order.id)]))
        self.assertNotEqual(sale_order.shop_release_state, "exception")


@tagged("post_install", "-at_install")
class TestShopMailSettingsOnTheShopForm(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="shop_manager", groups="base.group_user,shop_connector.group_manager"
        )

    def test_signature_and_reminder_days_are_set_on_the_shop_form(self):
        backend = self._create_backend(name="Teeladen")
        self.assertEqual(backend.payment_overdue_days, 7, "a week by default")
        with Form(backend.with_user(self.manager)) as form:
            form.mail_signature = "<p>Teeladen Sonnenschein, Lindenweg 3, 04109 Leipzig</p>"
            form.payment_overdue_days = 10
        self.assertIn("Lindenweg 3", backend.mail_signature)
        self.assertEqual(backend.payment_overdue_days, 10)

    def test_negative_reminder_days_are_refused(self):
        backend = self._create_backend(name="Teeladen")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            backend.payment_overdue_days = -1
            backend.flush_recordset()


@tagged("post_install", "-at_install")
class TestPaymentOverdueDays(ShopOrderFlowCase):
    """The shop's setting, a week by default, decides when an unpaid order is overdue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls._create_storable(qty=10)

    def _waiting_order(self, days_ago, ref):
        order = self._create_shop_order(
            self.product,
            "bank_transfer",
            shop_external_ref=ref,
            date_order=fields.Datetime.now() - timedelta(days=days_ago),
        )
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "waiting_payment")
        return order

    def _remind(self):
        self._run_cron("shop_connector.ir_cron_payment_overdue")

    def test_default_week_then_the_shops_own_days(self):
        self.assertEqual(self.shop.payment_overdue_days, 7)
        six_days = self._waiting_order(6, "2001")
        eight_days = self._waiting_order(8, "2002")
        self._remind()
        self.assertTrue(eight_days.shop_overdue_case_id)
        self.assertFalse(six_days.shop_overdue_case_id, "not yet a week")
        self.assertIn("7 days", eight_days.shop_overdue_case_id.sudo().description)

        self.shop.payment_overdue_days = 5
        self._remind()
        self.assertTrue(six_days.shop_overdue_case_id)
        self.assertIn("5 days", six_days.shop_overdue_case_id.sudo().description)

    def test_zero_days_never_remind(self):
        self.shop.payment_overdue_days = 0
        order = self._waiting_order(60, "2003")
        self._remind()
        self.assertFalse(order.shop_overdue_case_id)
