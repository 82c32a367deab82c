from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from odoo.addons.mail_crm_shop.tests.test_mail_ingest import MailIngestCommon, read_mail

from ..services.order_checks import OrderException

CUSTOMER = "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen.Mueller@Example.DE>"


@tagged("post_install", "-at_install")
class TestOrderReferenceMail(MailIngestCommon):
    """A customer mail quoting the shop's order number is linked to that order, without
    holding it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        exception_queue = cls._create_queue(name="Order exceptions")
        cls.backend = cls.env["shop.backend"].create(
            {
                "name": "Teeladen",
                "backend_type": "shopify",
                "exception_queue_id": exception_queue.id,
            }
        )
        cls.product = cls._create_product()
        cls.order = cls._create_shop_order(cls.customer, "100234")

    @classmethod
    def _create_shop_order(cls, partner, shop_ref):
        return cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "shop_backend_id": cls.backend.id,
                "shop_external_ref": shop_ref,
                "shop_payment_method": "paypal",
                "order_line": [
                    Command.create({"product_id": cls.product.id, "product_uom_qty": 1})
                ],
            }
        )

    def _receive_case(self, subject, variant="a"):
        raw = read_mail(
            "customer_order_question.eml",
            sender=CUSTOMER,
            address="Juergen.Mueller@Example.DE",
            subject=subject,
            body="Wann wird geliefert?",
            variant=variant,
        )
        inbound = self._receive(raw)
        self.assertEqual(inbound.state, "done", inbound.last_error)
        return inbound.case_id

    def test_shop_order_number_links_the_order(self):
        other = self._create_partner(name="Otto Andere", email="otto@example.org")
        other_order = self._create_shop_order(other, "100235")
        case = self._receive_case("Ihre Bestellung #100234")
        self.assertEqual(case.sale_order_id, self.order)
        self.assertEqual(case.partner_id, self.customer)
        case = self._receive_case(f"Bestellnummer: {other_order.shop_external_ref}", "b")
        self.assertFalse(case.sale_order_id, "another customer's shop order")

    def test_linked_customer_case_does_not_hold_the_order(self):
        record = self.env["shop.order.import"].create(
            {"backend_id": self.backend.id, "external_id": "100234", "payload": "{}"}
        )
        self.order.shop_release_state = "exception"
        exception_case = self.env["crm.shop.case"]._shop_open_exception_cases(
            self.order, record, [OrderException("customer_note", "Bitte klingeln")]
        )
        self.assertTrue(exception_case._shop_holds_order())

        case = self._receive_case("Bestellung 100234: bitte schneller")
        self.assertEqual(case.sale_order_id, self.order)
        self.assertFalse(case.shop_exception_code)
        self.assertFalse(case._shop_holds_order(), "the customer's question holds nothing")
        self.assertEqual(self.order.shop_release_state, "exception", "linking changed nothing")

        sale_order_class = type(self.env["sale.order"])
        with patch.object(sale_order_class, "action_shop_resume", autospec=True) as resume:
            exception_case.state = "done"
            resume.assert_called_once()
            self.assertEqual(resume.call_args.args[0], self.order, "the open mail case is no hold")
            resume.reset_mock()
            case.state = "done"
            resume.assert_not_called()
