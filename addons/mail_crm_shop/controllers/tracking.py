import base64

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.http import request

# a transparent 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII="
)


class MailTrackingController(http.Controller):
    @http.route("/crm_shop/track/open/<string:token>.png", type="http", auth="public")
    def track_open(self, token, **kwargs):
        """Record that a tracked mail was opened; always answer the image."""
        Tracking = request.env["crm.shop.mail.tracking"].sudo()
        tracking = Tracking._from_open_token(token)
        if tracking and tracking.template_id.crm_shop_track_opens:
            tracking._record_opened(fields.Datetime.now())
        return request.make_response(
            PIXEL,
            headers=[("Content-Type", "image/png"), ("Cache-Control", "no-store")],
        )

    @http.route("/crm_shop/track/click/<string:token>", type="http", auth="public")
    def track_click(self, token, url=None, **kwargs):
        """Record a click on a tracked link and redirect to it (signed: no open redirect)."""
        Tracking = request.env["crm.shop.mail.tracking"].sudo()
        tracking = Tracking._from_click_token(token, url)
        if not tracking:
            raise NotFound()
        if tracking.template_id.crm_shop_track_opens:
            tracking._record_clicked(fields.Datetime.now())
        return request.redirect(url, code=302, local=False)
