import base64
from email.message import EmailMessage

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail_crm_shop.services.errors import TransientError

from .common import FakeTransport, ShippingExchangeCase


def _xml(*confirmations):
    body = "".join(
        f'<Confirmation reference="{ref}"><TrackingNumber>{tracking}</TrackingNumber>'
        f"<Carrier>DHL</Carrier>{lines}</Confirmation>"
        for ref, tracking, lines in confirmations
    )
    return f"<Confirmations>{body}</Confirmations>".encode()


@tagged("post_install", "-at_install")
class TestConfirmation(ShippingExchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.stock_move_email_validation = True
        cls.profile = cls._create_profile(
            confirmation_dir="/out",
            csv_mapping='{"tracking_ref": "Sendungsnummer", "sku": "", "quantity": ""}',
        )
        cls.picking = cls._create_ready_picking()
        cls.other = cls._create_ready_picking()
        cls.sent = cls._create_record(
            profile_id=cls.profile.id, picking_id=cls.picking.id, state="sent"
        )
        cls.other_sent = cls._create_record(
            profile_id=cls.profile.id, picking_id=cls.other.id, state="sent"
        )

    def _incoming(self):
        return self.env["shipping.exchange.record"].search(
            [("direction", "=", "in"), ("profile_id", "=", self.profile.id)]
        )

    def test_confirmation_validates_the_delivery_and_mails_the_customer(self):
        folder = self._use_transport(FakeTransport())
        folder.files["conf1.xml"] = _xml((self.picking.name, "00340434161234567890", ""))
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertEqual(self.picking.state, "done")
        self.assertEqual(self.picking.carrier_tracking_ref, "00340434161234567890")
        self.assertEqual(self.picking.move_ids.quantity, 2)
        self.assertEqual(self.sent.state, "confirmed")
        self.assertEqual(folder.moved, {"conf1.xml": "done"})
        incoming = self._incoming()
        self.assertEqual(incoming.state, "done")
        self.assertEqual(incoming.picking_id, self.picking)
        self.assertEqual(
            base64.b64decode(incoming.payload_attachment_ids.datas), folder.files["conf1.xml"]
        )
        mail = self.picking.message_ids.filtered(lambda m: self.picking.partner_id in m.partner_ids)
        self.assertTrue(mail, "the customer gets the shipping mail")

    def test_partial_confirmation_leaves_a_backorder(self):
        folder = self._use_transport(FakeTransport())
        line = '<Line sku="SKU-1" quantity="1"/>'
        folder.files["conf1.xml"] = _xml((self.picking.name, "T-1", line))
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertEqual(self.picking.state, "done")
        self.assertEqual(self.picking.move_ids.quantity, 1)
        backorder = self.env["stock.picking"].search([("backorder_id", "=", self.picking.id)])
        self.assertEqual(backorder.move_ids.product_uom_qty, 1)

    def test_unknown_and_bad_confirmations_are_recorded_and_the_rest_processed(self):
        folder = self._use_transport(FakeTransport())
        folder.files["a-mixed.xml"] = _xml(
            (self.picking.name, "T-1", ""),
            ("WH/OUT/99999", "T-2", ""),
        )
        folder.files["b-broken.xml"] = b"<Confirmations><oops"
        folder.files["c-good.csv"] = (
            f"reference;Sendungsnummer;carrier\n{self.other.name};T-3;DHL\n".encode()
        )
        self._run_cron("ir_cron_fetch_confirmations")
        by_name = {r.file_name: r for r in self._incoming()}
        mixed, broken, good = by_name["a-mixed.xml"], by_name["b-broken.xml"], by_name["c-good.csv"]
        self.assertEqual(mixed.state, "failed")
        self.assertIn("WH/OUT/99999", mixed.last_error)
        self.assertTrue(mixed.activity_ids)
        self.assertEqual(self.picking.state, "done")  # its known delivery was still applied
        self.assertEqual(broken.state, "failed")
        self.assertTrue(broken.payload_attachment_ids)
        self.assertEqual(folder.moved["b-broken.xml"], "error")
        self.assertEqual(good.state, "done")
        self.assertEqual(self.other.state, "done")
        self.assertEqual(self.other.carrier_tracking_ref, "T-3")

        # a person sends the missing delivery; retrying the file applies the rest, once
        late = self._create_ready_picking()
        late.name = "WH/OUT/99999"
        self._create_record(profile_id=self.profile.id, picking_id=late.id, state="sent")
        mixed.action_retry()
        self.assertEqual(mixed.state, "done")
        self.assertEqual(late.state, "done")
        self.assertEqual(
            self.env["stock.picking"].search_count([("backorder_id", "=", self.picking.id)]), 0
        )

    def test_duplicate_file_is_applied_once(self):
        folder = self._use_transport(FakeTransport())
        content = _xml((self.picking.name, "T-1", ""))
        folder.files["conf1.xml"] = content
        self._run_cron("ir_cron_fetch_confirmations")
        folder.files["conf1-again.xml"] = content
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertEqual(len(self._incoming()), 1)
        self.assertEqual(folder.moved["conf1-again.xml"], "done")
        self.assertEqual(self.picking.state, "done")

    def test_folder_unreachable_is_stored_on_the_profile(self):
        folder = self._use_transport(FakeTransport())
        self.patch(
            type(folder), "list_files", lambda _self: (_ for _ in ()).throw(TransientError("down"))
        )
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertIn("down", self.profile.last_error)
        self.assertFalse(self._incoming())
        self.patch(type(folder), "list_files", lambda _self: ["conf1.xml"])
        folder.files["conf1.xml"] = _xml((self.picking.name, "T-1", ""))
        self._run_cron("ir_cron_fetch_confirmations")
        self.assertFalse(self.profile.last_error)
        self.assertEqual(self.picking.state, "done")


@tagged("post_install", "-at_install")
class TestConfirmationMail(ShippingExchangeCase):
    def _eml(self, to, attachments):
        message = EmailMessage()
        message["From"] = "Fulfilment <noreply@fulfilment.example>"
        message["To"] = to
        message["Subject"] = "Versandbestätigung"
        message["Message-Id"] = f"<{len(attachments)}-{to}@fulfilment.example>"
        message.set_content("Anbei die Versandbestätigung.")
        for name, content in attachments:
            message.add_attachment(content, maintype="text", subtype="csv", filename=name)
        return message.as_bytes()

    def test_confirmation_mail_to_the_profile_alias(self):
        domain = self.env["mail.alias.domain"].create({"name": "shop.example"})
        self.env.company.alias_domain_id = domain
        self.env.company.stock_move_email_validation = True
        profile = self._create_profile(
            alias_name="versand",
            csv_mapping='{"sku": "", "quantity": ""}',
        )
        self.assertEqual(profile.alias_email, "versand@shop.example")
        sender = self._create_partner(name="Fulfilment", email="noreply@fulfilment.example")
        profile.message_subscribe(partner_ids=sender.ids)
        picking = self._create_ready_picking()
        sent = self._create_record(profile_id=profile.id, picking_id=picking.id, state="sent")
        csv = f"reference,tracking_number\n{picking.name},T-MAIL\n".encode()
        Thread = self.env["mail.thread"]
        record_id = Thread.message_process(False, self._eml(profile.alias_email, [("c.csv", csv)]))
        incoming = self.env["shipping.exchange.record"].browse(record_id)
        self.assertEqual(incoming.direction, "in")
        self.assertEqual(incoming.profile_id, profile)
        self.assertEqual(incoming.source, "mail")
        # stored first, applied by the processing cron
        self.assertEqual(incoming.state, "pending")
        self.assertEqual(sent.state, "sent")
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(incoming.state, "done")
        self.assertEqual(sent.state, "confirmed")
        self.assertEqual(picking.carrier_tracking_ref, "T-MAIL")
        # no file attached and no confirmation in the text: recorded for a person
        record_id = Thread.message_process(False, self._eml(profile.alias_email, []))
        empty = self.env["shipping.exchange.record"].browse(record_id)
        self.assertEqual((empty.source, empty.state), ("mail_text", "pending"))
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(empty.state, "failed")
        self.assertIn("neither a confirmation file", empty.last_error)
        self.assertTrue(empty.activity_ids)

    def test_confirmation_mail_from_a_stranger_is_refused(self):
        domain = self.env["mail.alias.domain"].create({"name": "shop.example"})
        self.env.company.alias_domain_id = domain
        profile = self._create_profile(alias_name="versand")
        picking = self._create_ready_picking()
        sent = self._create_record(profile_id=profile.id, picking_id=picking.id, state="sent")
        csv = f"reference,tracking_number,sku,quantity\n{picking.name},T-X,SKU-1,2\n".encode()
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            self.env["mail.thread"].message_process(
                False, self._eml(profile.alias_email, [("c.csv", csv)])
            )
        self.assertEqual(sent.state, "sent")
        self.assertEqual(picking.state, "assigned")
