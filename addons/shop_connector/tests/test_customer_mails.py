from odoo.tests import tagged

from .common_flow import ShopOrderFlowCase

TRACKING_URL = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode="


@tagged("post_install", "-at_install")
class TestCustomerMails(ShopOrderFlowCase):
    """The three mails a shop customer gets, in the customer's language, under the shop's name."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.env["ir.module.module"]._load_module_terms(
            ["shop_connector"], ["de_DE"], overwrite=True
        )
        cls.shop.write(
            {
                "name": "Teeladen Sonnenschein",
                "mail_signature": "<p>Teeladen Sonnenschein, Lindenweg 3, 04109 Leipzig</p>",
            }
        )
        cls.env.company.name = "Sonnenschein Handels GmbH"
        carrier_product = cls.env["product.product"].create({"name": "Parcel", "type": "service"})
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "DHL Paket",
                "product_id": carrier_product.id,
                "tracking_url": f"{TRACKING_URL}<shipmenttrackingnumber>",
            }
        )
        cls.product = cls._create_storable(qty=10)

    def _order_shipped_and_invoiced(self, lang):
        """An order of the shop, shipped with tracking number 00340434: its three mails."""
        self.customer.lang = lang
        order = self._create_shop_order(
            self.product, "paypal", shop_external_ref="1001", carrier_id=self.carrier.id
        )
        order._shop_start_processing()
        picking = order.picking_ids
        self.assertEqual(picking.carrier_id, self.carrier)
        self._ship(picking, tracking_ref="00340434")
        invoice = order.invoice_ids
        self.assertEqual(invoice.state, "posted")

        def customer_mail(record):
            mails = record.message_ids.filtered(lambda m: self.customer in m.partner_ids)
            self.assertEqual(len(mails), 1, f"one customer mail on {record.display_name}")
            self.assertIn(self.customer, mails.partner_ids)
            self.assertIn("Lindenweg 3", mails.body, "the shop's signature closes the mail")
            self.assertNotIn(
                "Sonnenschein Handels GmbH", mails.subject, "the shop, not the company"
            )
            return mails

        return invoice, customer_mail(order), customer_mail(picking), customer_mail(invoice)

    def _assert_tracking_link(self, mail):
        self.assertIn(f'href="{TRACKING_URL}00340434"', mail.body)
        self.assertIn("DHL Paket", mail.body)

    def _assert_invoice_pdf(self, invoice, mail):
        pdf = invoice.invoice_pdf_report_id
        self.assertTrue(pdf, "the invoice PDF is stored")
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertEqual(mail.attachment_ids.name, pdf.name)
        self.assertEqual(mail.attachment_ids.mimetype, "application/pdf")
        self.assertEqual(mail.attachment_ids.checksum, pdf.checksum, "the invoice's own PDF")

    def test_german_customer_gets_german_mails_under_the_shops_name(self):
        invoice, received, shipped, invoice_mail = self._order_shipped_and_invoiced("de_DE")

        self.assertEqual(
            received.subject, "Teeladen Sonnenschein: Wir haben Ihre Bestellung 1001 erhalten"
        )
        self.assertIn("Hallo Erika Mustermann", received.body)
        self.assertIn("vielen Dank für Ihre Bestellung", received.body)
        self.assertIn("Wir bereiten sie für den Versand vor.", received.body)

        self.assertEqual(
            shipped.subject, "Teeladen Sonnenschein: Ihre Bestellung 1001 ist unterwegs"
        )
        self.assertIn("wurde mit DHL Paket versendet.", shipped.body)
        self.assertIn("Sendungsnummer", shipped.body)
        self._assert_tracking_link(shipped)

        self.assertEqual(invoice_mail.subject, f"Teeladen Sonnenschein: Rechnung {invoice.name}")
        self.assertIn("anbei erhalten Sie die Rechnung", invoice_mail.body)
        self.assertIn(invoice.name, invoice_mail.body)
        self._assert_invoice_pdf(invoice, invoice_mail)

        for mail in (received, shipped, invoice_mail):
            self.assertNotIn("Hello", mail.body)

    def test_english_customer_gets_english_mails_under_the_shops_name(self):
        invoice, received, shipped, invoice_mail = self._order_shipped_and_invoiced("en_US")

        self.assertEqual(received.subject, "Teeladen Sonnenschein: we received your order 1001")
        self.assertIn("Hello Erika Mustermann", received.body)
        self.assertIn("thank you for your order", received.body)

        self.assertEqual(shipped.subject, "Teeladen Sonnenschein: your order 1001 is on its way")
        self.assertIn("has been shipped with DHL Paket.", shipped.body)
        self.assertIn("Tracking number", shipped.body)
        self._assert_tracking_link(shipped)

        self.assertEqual(invoice_mail.subject, f"Teeladen Sonnenschein: invoice {invoice.name}")
        self.assertIn("please find attached the invoice", invoice_mail.body)
        self._assert_invoice_pdf(invoice, invoice_mail)

        for mail in (received, shipped, invoice_mail):
            self.assertNotIn("Hallo", mail.body)
