import base64
from contextlib import contextmanager
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools.misc import file_open

from .common import ShippingExchangeCase

EML_REFERENCE = b"WH/OUT/00042"


class IntakeCase(ShippingExchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.stock_move_email_validation = True
        cls.env.company.alias_domain_id = cls.env["mail.alias.domain"].create(
            {"name": "shop.example"}
        )
        cls.profile = cls._create_profile(alias_name="versand")
        cls.picking = cls._create_ready_picking()
        cls.sent = cls._create_record(
            profile_id=cls.profile.id, picking_id=cls.picking.id, state="sent"
        )

    def _incoming(self):
        return self.env["shipping.exchange.record"].search(
            [("direction", "=", "in"), ("profile_id", "=", self.profile.id)]
        )

    @contextmanager
    def _confirm_crashes(self):
        def crash(picking, confirmation, move_quantities=None):
            raise RuntimeError("lock timeout on stock.quant")

        with patch.object(self.registry["stock.picking"], "_shipping_exchange_confirm", crash):
            yield


@tagged("post_install", "-at_install")
class TestMailTextConfirmation(IntakeCase):
    """Real mails through ``message_process``: stored first, applied by the cron."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        senders = [("Fulfilment", "versand@fulfilment.example")]
        senders.append(("Parcel Express", "no-reply@parcels.example"))
        for name, address in senders:
            partner = cls._create_partner(name=name, email=address)
            cls.profile.message_subscribe(partner_ids=partner.ids)

    def _receive(self, eml_name):
        with file_open(f"shipping_exchange/tests/data/mails/{eml_name}", "rb") as eml:
            raw = eml.read().replace(EML_REFERENCE, self.picking.name.encode())
        record_id = self.env["mail.thread"].message_process(False, raw)
        return self.env["shipping.exchange.record"].browse(record_id)

    def test_german_plain_text_notice_is_stored_then_applied(self):
        incoming = self._receive("notice_de_plain_qp.eml")
        self.assertEqual((incoming.source, incoming.state), ("mail_text", "pending"))
        self.assertEqual(incoming.file_name, "Versandbestätigung für Ihre Lieferung")
        raw = base64.b64decode(incoming.payload_attachment_ids[:1].datas).decode()
        self.assertIn("Sendungsnummer: 00340434161234567890", raw)
        self.assertTrue(incoming.message_ids.filtered(lambda m: "übergeben" in (m.body or "")))
        self.assertEqual(self.picking.state, "assigned")  # nothing applied at intake

        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(incoming.state, "done")
        self.assertEqual(incoming.picking_id, self.picking)
        self.assertEqual(self.sent.state, "confirmed")
        self.assertEqual(self.picking.state, "done")
        self.assertEqual(
            self.picking.carrier_tracking_ref, "00340434161234567890,00340434161234567891"
        )
        mail = self.picking.message_ids.filtered(lambda m: self.picking.partner_id in m.partner_ids)
        self.assertTrue(mail, "the customer gets the shipping mail")

    def test_english_html_only_notice(self):
        incoming = self._receive("notice_en_html_only.eml")
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(incoming.state, "done")
        self.assertEqual(self.picking.carrier_tracking_ref, "1Z999AA10123456784")

    def test_csv_pasted_into_the_mail(self):
        incoming = self._receive("inline_csv_de.eml")
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(incoming.state, "done")
        self.assertEqual(self.picking.carrier_tracking_ref, "00340434161234567892")

    def test_unrecognised_mail_is_kept_for_a_person_who_can_retry(self):
        incoming = self._receive("notice_unrecognised.eml")
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(incoming.state, "failed")
        self.assertIn("neither a confirmation file attached", incoming.last_error)
        self.assertTrue(incoming.activity_ids)
        self.assertTrue(incoming.payload_attachment_ids)
        self.assertEqual(self.picking.state, "assigned")

        with self.assertRaises(ValidationError):
            self.profile.mail_reference_pattern = "Auftrag (?P<value>"
        self.profile.write(
            {
                "mail_reference_pattern": r"Auftrag\s+(?P<value>\S+)",
                "mail_tracking_pattern": r"Paketschein-ID\s+(?P<value>\S+)",
            }
        )
        incoming.action_retry()
        self.assertEqual(incoming.state, "done")
        self.assertFalse(incoming.activity_ids)
        self.assertEqual(self.picking.carrier_tracking_ref, "PS-77812345")

    def test_a_crash_while_applying_keeps_the_mail(self):
        incoming = self._receive("notice_de_plain_qp.eml")
        with self._confirm_crashes():
            self._run_cron("ir_cron_process_confirmations")
        self.assertTrue(incoming.exists())
        self.assertEqual(incoming.state, "failed")
        self.assertIn("lock timeout", incoming.last_error)
        self.assertTrue(incoming.payload_attachment_ids)
        self.assertEqual(self.sent.state, "sent")
        self.assertEqual(self.picking.state, "assigned")

        incoming.action_retry()
        self.assertEqual(incoming.state, "done")
        self.assertEqual(self.picking.state, "done")


@tagged("post_install", "-at_install")
class TestPortalConfirmation(IntakeCase):
    """Quantities per line and tracking numbers from the carrier's portal user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mug = cls._create_product(name="Mug", default_code="SKU-2")
        cls.two_lines = cls._create_ready_picking(products=cls.product | cls.mug)
        cls.two_sent = cls._create_record(
            profile_id=cls.profile.id, picking_id=cls.two_lines.id, state="sent"
        )

    def _moves(self):
        teapot = self.two_lines.move_ids.filtered(lambda m: m.product_id == self.product)
        return teapot, self.two_lines.move_ids - teapot

    def test_partial_quantities_leave_a_backorder_and_a_note(self):
        teapot, mug = self._moves()
        entry = self.two_sent._confirm_from_portal(
            "00340434161234567890\n00340434161234567891", {teapot.id: "1", mug.id: "0"}
        )
        self.assertEqual(entry.state, "pending")
        self.assertEqual(self.two_lines.state, "assigned")
        payload = base64.b64decode(entry.payload_attachment_ids.datas).decode()
        self.assertIn('"shipped": "1"', payload)

        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(entry.state, "done")
        self.assertEqual(self.two_sent.state, "confirmed")
        self.assertEqual(self.two_lines.state, "done")
        self.assertEqual(
            self.two_lines.carrier_tracking_ref, "00340434161234567890,00340434161234567891"
        )
        self.assertEqual(self.two_lines.move_ids.mapped("quantity"), [1.0])
        backorder = self.env["stock.picking"].search([("backorder_id", "=", self.two_lines.id)])
        self.assertEqual(len(backorder), 1)
        left = {m.product_id: m.product_uom_qty for m in backorder.move_ids}
        self.assertEqual(left, {self.product: 1.0, self.mug: 2.0})
        note = self.two_sent.message_ids.filtered(lambda m: "Partly shipped" in (m.body or ""))
        self.assertTrue(note)
        self.assertIn(backorder.name, note.body)

    def test_wrong_quantities_change_nothing(self):
        teapot, mug = self._moves()
        wrong = [
            ({teapot.id: "3"}, "above the 2 to ship"),
            ({teapot.id: "-1"}, "cannot be negative"),
            ({mug.id: "zwei"}, "Enter a number"),
            ({teapot.id: "0", mug.id: "0"}, "at least one line"),
            ({self.picking.move_ids.id: "1"}, "not part of the delivery"),
        ]
        for quantities, message in wrong:
            with self.subTest(quantities=quantities), self.assertRaises(UserError) as caught:
                self.two_sent._confirm_from_portal("T-1", quantities)
            self.assertIn(message, str(caught.exception))
        self.assertFalse(self._incoming())
        self.assertEqual(self.two_sent.state, "sent")
        self.assertEqual(self.two_lines.state, "assigned")
        self.assertEqual(self.two_lines.move_ids.mapped("picked"), [False, False])

    def test_a_crash_while_applying_keeps_the_entry_and_is_retried(self):
        entry = self.two_sent._confirm_from_portal("T-1")
        with self._confirm_crashes():
            self._run_cron("ir_cron_process_confirmations")
        self.assertTrue(entry.exists())
        self.assertEqual((entry.state, entry.attempt_count), ("error", 1))
        self.assertIn("lock timeout", entry.last_error)
        self.assertTrue(entry.next_attempt_date)
        self.assertEqual(self.two_sent.state, "sent")

        self._run_cron("ir_cron_process_confirmations")  # not due yet: waits
        self.assertEqual(entry.state, "error")
        self._run_cron("ir_cron_process_confirmations", when=entry.next_attempt_date)
        self.assertEqual(entry.state, "done")
        self.assertEqual(self.two_lines.state, "done")
        self.assertEqual(self.two_lines.carrier_tracking_ref, "T-1")

    def test_entry_for_a_delivery_cancelled_meanwhile_fails_with_the_reason(self):
        entry = self.two_sent._confirm_from_portal("T-1")
        self.two_lines.action_cancel()
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(entry.state, "failed")
        self.assertIn("already cancel", entry.last_error)
        self.assertTrue(entry.activity_ids)
        self.assertEqual(self.two_sent.state, "sent")
