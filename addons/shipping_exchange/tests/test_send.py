import base64
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.mail_crm_shop.services.errors import TransientError

from ..adapters.http import HttpResult, RateLimited
from .common import FakeTransport, ShippingExchangeCase

T0 = datetime(2026, 11, 20, 8, 0)


@tagged("post_install", "-at_install")
class TestSend(ShippingExchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profile = cls._create_profile()
        cls.picking = cls._create_ready_picking()  # no rules: no automatic record
        cls.record = cls._create_record(profile_id=cls.profile.id, picking_id=cls.picking.id)

    def test_sent_file_is_kept_on_the_record(self):
        transport = self._use_transport(FakeTransport())
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "sent")
        self.assertEqual(self.record.sent_date, T0)
        [(name, payload)] = transport.uploads
        self.assertEqual(name, self.picking.name.replace("/", "-") + ".xml")
        self.assertIn(b"<Sku>SKU-1</Sku>", payload)
        self.assertIn(b"4006381333931", payload)
        attachment = self.record.payload_attachment_ids
        self.assertEqual(base64.b64decode(attachment.datas), payload)
        # sent once: the next run has nothing to do
        self._run_cron("ir_cron_send", T0 + timedelta(hours=1))
        self.assertEqual(len(transport.uploads), 1)

    def test_http_receipt_with_an_id_is_an_acknowledgement(self):
        self.profile.transport = "api"
        result = HttpResult(201, b'{"id": "FP-778"}', "application/json")
        self._use_transport(FakeTransport(result=result))
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "acknowledged")
        self.assertEqual(self.record.remote_ref, "FP-778")

    def test_email_transport_queues_a_mail_with_the_file(self):
        self.profile.write({"transport": "email", "email_to": "orders@fulfilment.example"})
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "sent")
        mail = self.env["mail.mail"].search(
            [("model", "=", self.record._name), ("res_id", "=", self.record.id)]
        )
        self.assertEqual(mail.email_to, "orders@fulfilment.example")
        self.assertEqual(mail.attachment_ids, self.record.payload_attachment_ids)

    def test_transient_failures_back_off_then_fail_then_retry_succeeds(self):
        broken = self._use_transport(FakeTransport(fail_with=TransientError("host down")))
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "error")
        self.assertEqual(self.record.attempt_count, 1)
        self.assertEqual(self.record.next_attempt_date, T0 + timedelta(minutes=5))
        self.assertIn("host down", self.record.last_error)
        self.assertFalse(self.record.payload_attachment_ids)  # nothing kept of a failed send
        # not due yet: untouched
        self._run_cron("ir_cron_send", T0 + timedelta(minutes=4))
        self.assertEqual(self.record.attempt_count, 1)
        when = T0
        for _attempt in range(4):
            when = self.record.next_attempt_date
            self._run_cron("ir_cron_send", when)
        self.assertEqual(self.record.state, "failed")
        self.assertEqual(self.record.attempt_count, 5)
        self.assertTrue(self.record.activity_ids)
        self.assertTrue(self.record.message_ids.filtered(lambda m: "host down" in str(m.body)))
        broken.fail_with = None
        with freeze_time(when):
            self.record.action_retry()
        self.assertFalse(self.record.activity_ids)
        self._run_cron("ir_cron_send", when + timedelta(minutes=1))
        self.assertEqual(self.record.state, "sent")
        self.assertEqual(len(broken.uploads), 1)

    def test_rate_limited_api_is_retried_after_the_wait_it_asked_for(self):
        """A carrier API answering 429 with ``Retry-After: 3600`` is asked again after the
        hour, not after the usual five minutes (which it would only refuse again)."""
        self.profile.transport = "api"
        limited = RateLimited("429 Too Many Requests", retry_after=3600)
        accepted = HttpResult(202, b"", "text/plain")
        broken = self._use_transport(FakeTransport(fail_with=limited, result=accepted))
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "error")
        self.assertEqual(self.record.next_attempt_date, T0 + timedelta(hours=1))
        self.assertIn("429", self.record.last_error)
        broken.fail_with = RateLimited("429 Too Many Requests", retry_after=None)
        self._run_cron("ir_cron_send", T0 + timedelta(hours=1))
        self.assertEqual(self.record.attempt_count, 2)  # no wait named: the backoff
        self.assertEqual(self.record.next_attempt_date, T0 + timedelta(hours=1, minutes=10))
        broken.fail_with = None
        self._run_cron("ir_cron_send", self.record.next_attempt_date)
        self.assertEqual(self.record.state, "sent")

    def test_bad_delivery_data_fails_at_once(self):
        transport = self._use_transport(FakeTransport())
        self.product.default_code = False  # the carrier needs a SKU
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "failed")
        self.assertEqual(self.record.attempt_count, 1)
        self.assertIn("SKU", self.record.last_error)
        self.assertFalse(transport.uploads)
        self.product.default_code = "SKU-1"
        with freeze_time(T0):
            self.record.action_retry()
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "sent")

    def test_packstation_address_is_sent_with_the_post_number(self):
        transport = self._use_transport(FakeTransport())
        self.picking.partner_id.write({"street": "Packstation 105", "street2": "987654321"})
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "sent", self.record.last_error)
        self.assertIn(b"987654321", transport.uploads[0][1])

    def test_invalid_xml_mapping_is_refused(self):
        from odoo.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            self.profile.xml_mapping = '{"colour": {}}'
        self.profile.xml_mapping = '{"renames": {"City": "Ort"}}'
        transport = self._use_transport(FakeTransport())
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "failed")  # the generic XSD rejects <Ort>
        self.profile.xml_mapping = False
        with freeze_time(T0):
            self.record.action_retry()
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "sent")
        self.assertTrue(transport.uploads)

    def test_sale_order_gives_reference_and_cash_on_delivery(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.picking.partner_id.id,
                "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": 1})],
            }
        )
        cod = "shop_payment_method" in order._fields  # the shop connector is installed
        if cod:
            order.shop_payment_method = "cod"
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        record = self._create_record(profile_id=self.profile.id, picking_id=picking.id)
        transport = self._use_transport(FakeTransport())
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(record.state, "sent", record.last_error)
        payload = transport.uploads[-1][1]
        self.assertIn(f"<OrderReference>{order.name}</OrderReference>".encode(), payload)
        self.assertEqual(b"<CashOnDelivery" in payload, cod)

    def test_batched_profile_sends_one_file_and_a_bad_delivery_fails_alone(self):
        self.profile.send_batched = True
        second = self._create_record(
            profile_id=self.profile.id, picking_id=self._create_ready_picking().id
        )
        nosku = self._create_product(name="Mystery", default_code=False)
        bad = self._create_record(
            profile_id=self.profile.id, picking_id=self._create_ready_picking(products=nosku).id
        )
        transport = self._use_transport(FakeTransport())
        self._run_cron("ir_cron_send", T0)
        [(name, payload)] = transport.uploads
        self.assertTrue(name.startswith("Carrier-20261120-080000"), name)
        self.assertIn(self.picking.name.encode(), payload)
        self.assertIn(second.picking_id.name.encode(), payload)
        self.assertEqual((self.record | second).mapped("state"), ["sent", "sent"])
        self.assertEqual(self.record.payload_attachment_ids, second.payload_attachment_ids)
        self.assertEqual(bad.state, "failed")
        self.assertIn("SKU", bad.last_error)
        nosku.default_code = "MYST"
        with freeze_time(T0):
            bad.action_retry()
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(bad.state, "sent")
        self.assertEqual(len(transport.uploads), 2)

    def test_cancelled_delivery_is_not_sent(self):
        transport = self._use_transport(FakeTransport())
        self.picking.action_cancel()
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(self.record.state, "cancel")
        self.assertFalse(transport.uploads)
