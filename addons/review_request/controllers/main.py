from markupsafe import Markup, escape

from odoo import http
from odoo.http import request


class ReviewOptOut(http.Controller):
    """One-click opt-out from review invitations: no login, a signed token."""

    @http.route(
        "/review/optout/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        sitemap=False,
    )
    def review_optout(self, token, **kwargs):
        review = request.env["review.request"]._from_optout_token(token)
        if not review:
            message = request.env._("This opt-out link is not valid.")
            return self._page(message, status=404)
        review._opt_out()
        message = request.env._(
            "You will not receive any more review invitations from %s.",
            review.company_id.name,
        )
        return self._page(message)

    def _page(self, message, status=200):
        html = Markup(
            "<!DOCTYPE html><html><head><meta charset='utf-8'/>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'/>"
            "<title>%s</title></head><body><p>%s</p></body></html>"
        ) % (escape(message), escape(message))
        return request.make_response(
            str(html), headers=[("Content-Type", "text/html; charset=utf-8")], status=status
        )
