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

    def _create_link(self, url="https://shop.example/sendung?id=42"):
        return self.env["link.tracker"].create({"url": url, "title": url})

    def test_link_tracker_click_is_recorded_for_its_recipient(self):
        other = self.env["res.partner"].create({"name": "Eva", "email": "eva@kunde-beispiel.de"})
        tracking = self._create_tracking(self.tracked_template)
        tracking.line_ids = [(0, 0, {"partner_id": other.id, "email": other.email})]
        link = self._create_link()
        token = tracking._link_token(tracking.mail_mail_id, self.partner.id)
        response = self.url_open(f"/r/{link.code}/c/{token}", allow_redirects=False)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response.headers["Location"], "https://shop.example/sendung?id=42")
        self.env.invalidate_all()
        clicked = tracking.line_ids.filtered(lambda line: line.partner_id == self.partner)
        self.assertRecordValues(clicked, [{"status": "clicked"}])
        self.assertTrue(clicked.clicked_date)
        self.assertEqual(clicked.link_click_ids.link_id, link)
        self.assertEqual((tracking.line_ids - clicked).status, "sent")
        self.assertEqual(link.count, 1)

    def test_link_click_without_tracking_consent_or_valid_token_counts_only_the_link(self):
        plain = self._create_tracking(self.plain_template)
        tracked = self._create_tracking(self.tracked_template)
        link = self._create_link()
        for token in (
            plain._link_token(plain.mail_mail_id, self.partner.id),
            f"{tracked.mail_mail_id}-{self.partner.id}-forged",
        ):
            response = self.url_open(f"/r/{link.code}/c/{token}", allow_redirects=False)
            self.assertEqual(response.status_code, 302)
        self.env.invalidate_all()
        self.assertEqual((plain | tracked).line_ids.mapped("status"), ["delivered", "delivered"])
        self.assertEqual(link.count, 2)
        self.assertFalse(link.link_click_ids.crm_shop_tracking_line_id)
        unknown = self.url_open(f"/r/nocode/c/{tracked.mail_mail_id}-0-x", allow_redirects=False)
        self.assertEqual(unknown.status_code, 404)

    def test_click_of_a_shared_copy_counts_for_its_plain_addresses(self):
        tracking = self._create_tracking(
            self.tracked_template,
            line_ids=[
                (0, 0, {"email": "a@kunde-beispiel.de", "status": "delivered"}),
                (0, 0, {"email": "b@kunde-beispiel.de", "status": "delivered"}),
                (0, 0, {"partner_id": self.partner.id, "email": self.partner.email}),
            ],
        )
        link = self._create_link()
        token = tracking._link_token(tracking.mail_mail_id, 0)
        self.url_open(f"/r/{link.code}/c/{token}", allow_redirects=False)
        self.env.invalidate_all()
        by_email = {line.email: line.status for line in tracking.line_ids}
        self.assertEqual(
            by_email,
            {
                "a@kunde-beispiel.de": "clicked",
                "b@kunde-beispiel.de": "clicked",
                self.partner.email: "sent",
            },
        )
