from odoo.exceptions import AccessError
from odoo.tests import Form, tagged, users

from .common import MailCrmShopCase


@tagged("post_install", "-at_install")
class TestCaseCustomerRecords(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls._create_partner(name="Muster GmbH", is_company=True)
        cls.customer = cls._create_partner(name="Erika Muster", parent_id=cls.company.id)
        cls.stranger = cls._create_partner(name="Someone Else")
        cls.order = cls._create_sale_order(cls.customer)
        cls.invoice = cls._create_invoice(cls.company)
        cls._create_sale_order(cls.stranger)
        cls.earlier = cls._create_case(partner_id=cls.company.id, name="Earlier")
        cls.case = cls._create_case(partner_id=cls.customer.id)

    def test_the_customers_records_are_beside_the_case(self):
        self.assertEqual(self.case.sale_order_ids, self.order)
        self.assertEqual(self.case.invoice_ids, self.invoice)
        self.assertEqual(self.case.picking_ids, self.order.picking_ids)
        self.assertEqual(self.case.previous_case_ids, self.earlier)

    def test_case_without_customer_shows_nothing(self):
        case = self._create_case()
        self.assertFalse(case.sale_order_ids | case.previous_case_ids.sale_order_ids)
        self.assertFalse(case.previous_case_ids)

    def test_invoice_and_shipping_mail_can_be_resent(self):
        action = self.case.invoice_ids.action_send_and_print()
        self.assertEqual(action["res_model"], "account.move.send.wizard")
        picking = self.case.picking_ids
        action = picking.action_shop_resend_shipping_mail()
        composer = Form(self.env["mail.compose.message"].with_context(**action["context"]))
        self.assertIn(picking.name, composer.subject)

    @users("inbox_agent")
    def test_agent_opens_the_case_form(self):
        case = self.case.with_user(self.env.user)
        form = Form(case)
        self.assertEqual(form.partner_id, self.customer)
        form.follow_up_note = "Ask again on Monday"
        form.save()
        self.assertEqual(case.follow_up_note, "Ask again on Monday")
        self.assertEqual(case.previous_case_ids, self.earlier)
        with self.assertRaises(AccessError):  # no sales rights: no orders (and no page)
            case.read(["sale_order_ids"])
