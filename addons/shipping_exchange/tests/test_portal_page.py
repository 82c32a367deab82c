from odoo.http import Request
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ShippingExchangeCase


@tagged("post_install", "-at_install")
class TestPortalPage(HttpCase, ShippingExchangeCase):
    def _post(self, record, **data):
        return self.url_open(
            f"/my/shipping/{record.id}/confirm",
            data={**data, "csrf_token": Request.csrf_token(self)},
        )

    def _process(self):
        # HttpCase runs in registry test mode already: the cron shares the test cursor
        self.env.ref("shipping_exchange.ir_cron_process_confirmations").method_direct_trigger()

    def test_carrier_confirms_a_delivery_on_its_page(self):
        carrier = new_test_user(
            self.env, "carrier_page", password="carrier_page", groups="base.group_portal"
        )
        profile = self._create_profile(partner_id=carrier.partner_id.id)
        mine = self._create_ready_picking()
        record = self._create_record(profile_id=profile.id, picking_id=mine.id, state="sent")
        theirs = self._create_ready_picking()
        self._create_record(picking_id=theirs.id, state="sent")

        self.authenticate("carrier_page", "carrier_page")
        page = self.url_open("/my/shipping")
        self.assertEqual(page.status_code, 200)
        self.assertIn(mine.name, page.text)
        self.assertNotIn(theirs.name, page.text)

        other = self.env["shipping.exchange.record"].search([("picking_id", "=", theirs.id)])
        refused = self.url_open(
            f"/my/shipping/{other.id}/confirm",
            data={"tracking_ref": "X", "csrf_token": Request.csrf_token(self)},
            allow_redirects=False,
        )
        self.assertEqual(refused.status_code, 404)
        self.assertEqual(theirs.state, "assigned")

        done = self._post(record, tracking_ref="00340434161234567890")
        self.assertEqual(done.status_code, 200)
        self.assertIn("Received", done.text)
        self.assertIn("Received, being processed", done.text)
        self.assertEqual(record.state, "sent")  # stored, applied by the cron
        self._process()
        self.assertEqual(record.state, "confirmed")
        self.assertEqual(mine.state, "done")
        self.assertEqual(mine.carrier_tracking_ref, "00340434161234567890")
        self.assertNotIn(mine.name, self.url_open("/my/shipping").text)

    def test_carrier_enters_shipped_quantities_per_line(self):
        carrier = new_test_user(
            self.env, "carrier_qty", password="carrier_qty", groups="base.group_portal"
        )
        profile = self._create_profile(partner_id=carrier.partner_id.id)
        mug = self._create_product(name="Mug", default_code="SKU-2")
        picking = self._create_ready_picking(products=self.product | mug)
        record = self._create_record(profile_id=profile.id, picking_id=picking.id, state="sent")
        teapot_move = picking.move_ids.filtered(lambda m: m.product_id == self.product)
        mug_move = picking.move_ids - teapot_move

        self.authenticate("carrier_qty", "carrier_qty")
        page = self.url_open("/my/shipping").text
        self.assertIn(f'name="qty_{teapot_move.id}" value="2"', page)  # defaults: ordered
        self.assertIn("Mug", page)

        wrong = self._post(record, tracking_ref="T-1", **{f"qty_{teapot_move.id}": "5"})
        self.assertIn("above the 2 to ship", wrong.text)
        negative = self._post(record, tracking_ref="T-1", **{f"qty_{mug_move.id}": "-1"})
        self.assertIn("cannot be negative", negative.text)
        self.assertFalse(
            self.env["shipping.exchange.record"].search([("direction", "=", "in")]),
            "a wrong entry stores nothing",
        )
        self.assertEqual(picking.state, "assigned")

        received = self._post(
            record,
            tracking_ref="00340434161234567890\r\n00340434161234567891",
            **{f"qty_{teapot_move.id}": "1", f"qty_{mug_move.id}": "2"},
        )
        self.assertIn("Received, being processed", received.text)
        again = self._post(record, tracking_ref="T-9")
        self.assertIn("already received", again.text)

        self._process()
        self.assertEqual(record.state, "confirmed")
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.carrier_tracking_ref, "00340434161234567890,00340434161234567891")
        backorder = self.env["stock.picking"].search([("backorder_id", "=", picking.id)])
        self.assertEqual(
            [(m.product_id, m.product_uom_qty) for m in backorder.move_ids], [(self.product, 1.0)]
        )
        self.assertTrue(record.message_ids.filtered(lambda m: "Partly shipped" in (m.body or "")))
