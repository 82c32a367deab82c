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

    @http.route("/r/<string:code>/c/<string:token>", type="http", auth="public")
    def track_link_click(self, code, token, **kwargs):
        """A link of a tracked mail through Odoo's link tracker: the click is counted on
        the link tracker and, if the template tracks, on the recipient's tracking line;
        then redirect like ``/r/<code>`` (the target is the tracker's, never the URL's)."""
        line = request.env["crm.shop.mail.tracking"].sudo()._line_from_link_token(token)
        if not line.tracking_id.template_id.crm_shop_track_opens:
            line = line.browse()
        if not request.env["ir.http"].is_a_bot():
            request.env["link.tracker.click"].sudo().add_click(
                code,
                ip=request.httprequest.remote_addr,
                country_code=request.geoip.country_code,
                crm_shop_tracking_line_id=line.id,
            )
        redirect_url = request.env["link.tracker"].sudo().get_url_from_code(code)
        if not redirect_url:
            raise NotFound()
        return request.redirect(redirect_url, code=302, local=False)

    @http.route("/crm_shop/track/click/<string:token>", type="http", auth="public")
    def track_click(self, token, url=None, **kwargs):
        """Links of mails sent before clicks went through the link tracker: record the
        click and redirect (signed: no open redirect)."""
        Tracking = request.env["crm.shop.mail.tracking"].sudo()
        tracking = Tracking._from_click_token(token, url)
        if not tracking:
            raise NotFound()
        if tracking.template_id.crm_shop_track_opens:
            tracking._record_clicked(fields.Datetime.now())
        return request.redirect(url, code=302, local=False)
