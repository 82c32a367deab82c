from odoo import fields
from odoo.tests import tagged

from .test_mail_tracking import DSN_DATA, POSTFIX_MESSAGE_ID, MailTrackingCommon


@tagged("post_install", "-at_install")
class TestMailBounceCase(MailTrackingCommon):
    """A hard bounce of a mail about an order or invoice is an owned case: fix, resend."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.queue.write(
            {"sla_first_response_hours": 4, "sla_resolution_hours": 24, "sla_calendar_hours": True}
        )
        cls.invoice = cls._create_invoice(cls.buyer, post=False)
        cls.invoice.invoice_line_ids.sale_line_ids = [fields.Command.set(cls.order.order_line.ids)]
        cls.invoice.action_post()

    def _bounce_for(self, record, message_id):
        """Send a mail about ``record`` and let the buyer's server refuse it for good."""
        self._send_mail(record=record, message_id=message_id)
        raw = (DSN_DATA / "postfix_user_unknown.eml").read_bytes()
        return self._store_and_process(
            self.bounce_mailbox, raw.replace(POSTFIX_MESSAGE_ID.encode(), message_id.encode())
        )

    def _cases(self):
        return self.env["crm.shop.case"].search([("sale_order_id", "=", self.order.id)])

    def _exception_queue(self):
        """Where a bounce of a mail without a shop's own exception queue goes."""
        return self.env["crm.shop.queue"]._shop_exception_queue(self.env.company)

    def test_bounced_invoice_mail_opens_one_owned_case_on_its_order(self):
        self._bounce_for(self.invoice, POSTFIX_MESSAGE_ID)
        line = self._tracking(self.invoice).line_ids
        case = line.bounce_case_id
        self.assertRecordValues(
            case,
            [
                {
                    "sale_order_id": self.order.id,
                    "queue_id": self._exception_queue().id,
                    "partner_id": self.buyer.id,
                    "email_from": "max.mustermann@kunde-beispiel.de",
                }
            ],
        )
        self.assertTrue(case.sla_resolution_deadline)
        self.assertIn("fix the address and resend", case.name)
        self.assertIn(self.invoice.display_name, case.name)
        self.assertIn("User unknown", case.description)
        self.assertEqual(self._cases(), case)
        # the responsible still gets the activity on the invoice
        self.assertEqual(self.invoice.activity_ids.summary, "Mail bounced: fix the address, resend")

        # the same address bounces again, for the invoice and for the order: still one case
        self._bounce_for(self.invoice, "<second.try@odoo.haendler-beispiel.de>")
        self._bounce_for(self.order, "<order.mail@odoo.haendler-beispiel.de>")
        self.assertEqual(self._cases(), case)
        self.assertEqual(self._tracking(self.order).line_ids.bounce_case_id, case)
        self.assertEqual(len(case.message_ids.filtered(lambda m: "bounced" in (m.body or ""))), 2)

        # solved, resent, bounced once more: that is a new problem, a new case
        case.write({"state": "done"})
        self._bounce_for(self.invoice, "<third.try@odoo.haendler-beispiel.de>")
        cases = self._cases()
        self.assertEqual(len(cases), 2)
        self.assertEqual((cases - case).queue_id, self._exception_queue())

    def test_bounce_of_a_mail_without_order_opens_a_case_in_the_inbox(self):
        invoice = self._create_invoice(self.buyer)
        self._bounce_for(invoice, POSTFIX_MESSAGE_ID)
        case = self._tracking(invoice).line_ids.bounce_case_id
        self.assertTrue(case)
        self.assertFalse(case.sale_order_id)
        # not the company's first queue: the default exception queue, with its deadlines
        self.assertEqual(case.queue_id, self._exception_queue())
        self.assertNotEqual(case.queue_id, self.queue)
        self.assertTrue(case.sla_resolution_deadline)
        self.assertIn(invoice.display_name, case.name)

    def test_delivered_mail_opens_no_case(self):
        self._send_mail(record=self.invoice)
        self.assertFalse(self._tracking(self.invoice).line_ids.bounce_case_id)
        self.assertFalse(self._cases())
