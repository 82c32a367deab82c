from odoo.tests import HttpCase, tagged

from .common import ReviewRequestCase


@tagged("post_install", "-at_install")
class TestReviewOptOut(HttpCase, ReviewRequestCase):
    def test_one_click_opt_out_without_login(self):
        request = self._create_review_request()
        other = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=request.partner_id.id).id
        )
        url = request._optout_url().replace(request.get_base_url(), "")
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("will not receive any more review invitations", response.text)
        partner = request.partner_id
        self.assertTrue(partner.review_opt_out_date)
        self.assertFalse(partner.review_consent)
        self.assertTrue(request.opted_out)
        self.assertEqual((request | other).mapped("state"), ["cancel", "cancel"])
        guest_checkout = self._create_review_request(
            sale_order_id=self._create_sale_order(partner_id=self._create_partner().id).id
        )
        self._run_cron()
        self.assertFalse(self._invitations(request) | self._invitations(other))
        self.assertEqual(guest_checkout.state, "cancel", "same address, new contact")
        self.assertFalse(self._invitations(guest_checkout))

    def test_tampered_token_is_refused(self):
        request = self._create_review_request()
        token = request._optout_token()
        forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        for bad in (forged, "garbage", "AQ"):
            response = self.url_open("/review/optout/%s" % bad)
            self.assertEqual(response.status_code, 404, bad)
        self.assertFalse(request.partner_id.review_opt_out_date)
        self.assertEqual(request.state, "scheduled")
