from datetime import date, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ShopConnectorCase, clean_shopify_payload
from .common_flow import ShopOrderFlowCase
from .payment_common import ShopPaymentCase

DAY = date(2026, 11, 23)


class ExceptionQueueAssertions:
    """Without a configured queue an exception case goes to the company's default
    "Exceptions" queue, never to some other queue without service levels."""

    def _assert_owned_with_deadline(self, cases, company, not_queue=None):
        default = self.env["crm.shop.queue"].sudo()._shop_exception_queue(company)
        self.assertTrue(cases)
        self.assertEqual(cases.queue_id, default)
        self.assertEqual(default.company_id, company)
        self.assertTrue(default.sla_first_response_hours and default.sla_resolution_hours)
        if not_queue:
            self.assertNotEqual(default, not_queue)
        for case in cases:
            self.assertTrue(case.sla_first_response_deadline, case.name)
            self.assertTrue(case.sla_resolution_deadline, case.name)


@tagged("post_install", "-at_install")
class TestImportExceptionQueue(ExceptionQueueAssertions, ShopConnectorCase):
    def test_import_exceptions_without_a_shop_queue(self):
        # a company queue without service levels exists: it is not the exceptions queue
        backend = self._create_shopify_backend(exception_queue_id=False)
        self._create_product(name="Bio-T-Shirt", default_code="TS-100-BLK-M")
        self._import(backend, [([clean_shopify_payload(note="Bitte klingeln")], None)])
        self._process()
        order = self._imports(backend).sale_order_id
        cases = self.env["crm.shop.case"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(
            set(cases.mapped("shop_exception_code")), {"customer_note", "unknown_product"}
        )
        self._assert_owned_with_deadline(cases, backend.company_id, not_queue=self.queue)


@tagged("post_install", "-at_install")
class TestReleaseExceptionQueue(ExceptionQueueAssertions, ShopOrderFlowCase):
    def test_stock_shortfall_without_a_shop_queue(self):
        self.assertFalse(self.shop.exception_queue_id)
        scarce = self._create_storable(qty=1, name="Rare vase", default_code="RARE-1")
        order = self._create_shop_order(scarce, "paypal", qty=3)
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "exception")
        self._assert_owned_with_deadline(order.shop_case_id, self.shop.company_id, self.queue)

    def test_unknown_payment_method_without_a_shop_queue(self):
        product = self._create_storable(qty=5, name="Common cup", default_code="CUP-1")
        order = self._create_shop_order(product, "barter")
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "exception")
        self.assertIn("barter", order.shop_case_id.description)
        self._assert_owned_with_deadline(order.shop_case_id, self.shop.company_id, self.queue)


@tagged("post_install", "-at_install")
class TestUnmatchedPaymentQueue(ExceptionQueueAssertions, ShopPaymentCase):
    def test_unmatched_payment_without_an_account_queue(self):
        self.bank_account.write({"unmatched_case_days": 7, "queue_id": False})
        line = self._import(self._create_transaction(13.37, "no idea", booking_date=DAY))
        cron = self.env.ref("shop_connector.ir_cron_open_unmatched_cases")
        with freeze_time(DAY + timedelta(days=8)), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        line.invalidate_recordset()
        self._assert_owned_with_deadline(line.shop_case_id.sudo(), line.company_id)
