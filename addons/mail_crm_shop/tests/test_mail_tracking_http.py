from urllib.parse import urlencode

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestMailTrackingHttp(HttpCase):
    """The public open pixel and click redirect, through the real HTTP stack."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create(
            {"name": "Erika Muster", "email": "erika@kunde-beispiel.de"}
        )
        cls.tracked_template = cls._create_template(crm_shop_track_opens=True)
        cls.plain_template = cls._create_template(name="Invoice (not tracked)")

    @classmethod
    def _create_template(cls, **overrides):
        vals = {
            "name": "Shipping notice",
            "model_id": cls.env["ir.model"]._get_id("res.partner"),
            "subject": "Ihr Paket",
            **overrides,
        }
        return cls.env["mail.template"].create(vals)

    def _create_tracking(self, template, **overrides):
        vals = {
            "mail_mail_id": 900000 + len(self.env["crm.shop.mail.tracking"].search([])),
            "message_id": "<track-test@haendler-beispiel.de>",
            "template_id": template.id,
            "subject": "Ihr Paket",
            "line_ids": [
                (
                    0,
                    0,
                    {
                        "partner_id": self.partner.id,
                        "email": self.partner.email,
                        "status": "delivered",
                    },
                )
            ],
            **overrides,
        }
        return self.env["crm.shop.mail.tracking"].create(vals)

    def _open(self, token):
        response = self.url_open(f"/crm_shop/track/open/{token}.png")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "image/png")
        return response

    def test_pixel_records_opened_when_the_template_enables_it(self):
        tracking = self._create_tracking(self.tracked_template)
        self._open(tracking._open_token(tracking.mail_mail_id))
        self.assertEqual(tracking.line_ids.status, "opened")
        self.assertTrue(tracking.line_ids.opened_date)
        self.assertEqual(tracking.line_ids.opened_rate, 100.0)

    def test_pixel_records_nothing_when_tracking_is_off_or_token_forged(self):
        tracking = self._create_tracking(self.plain_template)
        self._open(tracking._open_token(tracking.mail_mail_id))
        self.assertEqual(tracking.line_ids.status, "delivered")
        tracked = self._create_tracking(self.tracked_template)
        self._open(f"{tracked.mail_mail_id}-forged")
        self.assertEqual(tracked.line_ids.status, "delivered")
        self.assertFalse(tracked.line_ids.opened_date)

    def test_click_is_recorded_and_redirects_only_with_a_valid_signature(self):
        tracking = self._create_tracking(self.tracked_template)
        url = "https://shop.example/sendung?id=42"
        token = tracking._click_token(tracking.mail_mail_id, url)
        query = urlencode({"url": url})
        response = self.url_open(f"/crm_shop/track/click/{token}?{query}", allow_redirects=False)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response.headers["Location"], url)
        self.assertEqual(tracking.line_ids.status, "clicked")
        self.assertTrue(tracking.line_ids.opened_date)
        forged = urlencode({"url": "https://evil.example/"})
        response = self.url_open(f"/crm_shop/track/click/{token}?{forged}", allow_redirects=False)
        self.assertEqual(response.status_code, 404)
