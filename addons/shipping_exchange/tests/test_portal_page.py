from odoo.http import Request
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ShippingExchangeCase


@tagged("post_install", "-at_install")
class TestPortalPage(HttpCase, ShippingExchangeCase):
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

        done = self.url_open(
            f"/my/shipping/{record.id}/confirm",
            data={"tracking_ref": "00340434161234567890", "csrf_token": Request.csrf_token(self)},
        )
        self.assertEqual(done.status_code, 200)
        self.assertIn("Confirmed", done.text)
        self.assertEqual(record.state, "confirmed")
        self.assertEqual(mine.state, "done")
        self.assertEqual(mine.carrier_tracking_ref, "00340434161234567890")
