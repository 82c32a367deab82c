import base64

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import MailCrmShopCase


@tagged("post_install", "-at_install")
class TestCaseTextBlock(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls._create_partner(name="Muster GmbH", is_company=True)
        cls.customer = cls._create_partner(name="Erika Muster", parent_id=cls.company.id)
        cls.case = cls._create_case(partner_id=cls.customer.id, user_id=cls.agent.id)

    def _ship(self, order, tracking_ref=None):
        picking = order.picking_ids
        if tracking_ref:
            carrier_product = self._create_product(name="Shipping", type="service")
            carrier = self.env["delivery.carrier"].create(
                {
                    "name": "DHL",
                    "product_id": carrier_product.id,
                    "delivery_type": "fixed",
                    "tracking_url": "https://track.example/?id=<shipmenttrackingnumber>",
                }
            )
            picking.write({"carrier_id": carrier.id, "carrier_tracking_ref": tracking_ref})
        picking.move_ids.quantity = 1
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def test_placeholders_come_from_orders_invoices_and_deliveries(self):
        first = self._create_sale_order(self.company)
        self._ship(first, tracking_ref="OLD")
        last = self._create_sale_order(self.customer)
        picking = self._ship(last, tracking_ref="JJD0001")
        self._create_invoice(self.customer, amount=40.0)
        self._create_invoice(self.company, amount=19.5)
        self._create_invoice(self.customer, amount=99.0, post=False)  # drafts are not due

        context = self.case._get_placeholder_context()
        self.assertEqual(context.customer_name, "Erika Muster")
        self.assertEqual(context.last_order_number, last.name)
        self.assertEqual(context.last_order_state, "Sales Order")
        self.assertIn("59.50", context.open_invoice_amount)
        self.assertEqual(context.tracking_link, picking.carrier_tracking_url)
        self.assertTrue(context.tracking_link.endswith("JJD0001"))

    def test_customer_without_erp_records_gets_empty_values(self):
        context = self._create_case(partner_id=self._create_partner(name="New").id)
        context = context._get_placeholder_context()
        self.assertEqual(
            (context.last_order_number, context.tracking_link, context.open_invoice_amount),
            ("", "", ""),
        )

    def test_reply_with_text_block_fills_the_composer(self):
        order = self._create_sale_order(self.customer)
        attachment = self.env["ir.attachment"].create(
            {"name": "AGB.pdf", "datas": base64.b64encode(b"%PDF-1.4 terms")}
        )
        block = self._create_text_block(
            body="<p>Hallo {{customer_name}}, Ihr Auftrag {{last_order_number}}. {{bogus}}</p>",
            attachment_ids=[attachment.id],
        )
        self.queue.signature = "<p>Ihr Service-Team</p>"
        case = self.case.with_user(self.agent)
        action = case.action_reply_with_text_block()
        self.assertEqual(case.lock_user_id, self.agent)
        wizard = Form(
            self.env[action["res_model"]].with_user(self.agent).with_context(**action["context"])
        )
        wizard.text_block_id = block
        wizard = wizard.save()
        self.assertEqual(wizard.unknown_placeholders, "bogus")
        composer_action = wizard.action_open_composer()

        composer = self.env["mail.compose.message"].with_user(self.agent)
        composer = composer.browse(composer_action["res_id"])
        self.assertIn(f"Hallo Erika Muster, Ihr Auftrag {order.name}.", composer.body)
        self.assertIn("Ihr Service-Team", composer.body)
        self.assertEqual(composer.attachment_ids, attachment)
        composer.action_send_mail()

        message = self.case.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn(order.name, message.body)
        # the reply carries the standard attachment; the text block keeps its own, and both
        # share one stored file
        self.assertEqual(message.attachment_ids.name, "AGB.pdf")
        self.assertEqual(message.attachment_ids.store_fname, attachment.store_fname)
        self.assertEqual(block.attachment_ids, attachment)
        self.assertIn(self.customer, message.partner_ids)
        self.assertTrue(self.case.first_response_date)

    def test_text_blocks_are_offered_per_queue(self):
        everywhere = self._create_text_block(name="Everywhere")
        here = self._create_text_block(name="Here", queue_ids=[self.queue.id])
        elsewhere = self._create_text_block(
            name="Elsewhere", queue_ids=[self._create_queue(name="Accounting").id]
        )
        wizard = self.env["crm.shop.case.reply"].create(
            {"case_id": self.case.id, "text_block_id": everywhere.id}
        )
        self.assertIn(everywhere, wizard.allowed_text_block_ids)
        self.assertIn(here, wizard.allowed_text_block_ids)
        self.assertNotIn(elsewhere, wizard.allowed_text_block_ids)

    def test_managers_manage_text_blocks_users_use_them(self):
        with self.assertRaises(AccessError):
            self.env["crm.shop.text.block"].with_user(self.agent).create(
                {"name": "Mine", "body": "<p>x</p>"}
            )
        block = (
            self.env["crm.shop.text.block"]
            .with_user(self.manager)
            .create({"name": "Shared", "body": "<p>x</p>"})
        )
        block.with_user(self.agent).check_access("read")
