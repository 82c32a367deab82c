import re

import lxml.html

from odoo import api, models, tools

from odoo.addons.link_tracker.tools.html import find_links_with_urls_and_labels

# links left as they are: unsubscribing must work without the tracker
LINK_SKIP_LIST = ("/unsubscribe_from_list", "/mail/unfollow", "/mail/unsubscribe")


class CrmShopMailTracking(models.Model):
    _inherit = "crm.shop.mail.tracking"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _open_token(self, mail_mail_id):
        """Signed token of the open pixel: ``<mail id>-<hmac>``."""
        signature = tools.hmac(self.env(su=True), "crm_shop_track_open", mail_mail_id)
        return f"{mail_mail_id}-{signature}"

    @api.model
    def _from_open_token(self, token):
        """The tracking the pixel ``token`` was made for, or an empty recordset."""
        mail_id, _sep, signature = (token or "").partition("-")
        if not mail_id.isdigit() or not signature:
            return self.browse()
        expected = tools.hmac(self.env(su=True), "crm_shop_track_open", int(mail_id))
        if not tools.consteq(expected, signature):
            return self.browse()
        return self.search([("mail_mail_id", "=", int(mail_id))], limit=1)

    @api.private
    def _record_opened(self, when):
        """The recipient's mail client loaded the pixel: delivered/sent lines become opened."""
        lines = self.line_ids.filtered(lambda line: line.status in ("sent", "delivered"))
        lines.write({"status": "opened", "status_date": when})
        self.line_ids.filtered(lambda line: not line.opened_date).write({"opened_date": when})

    # --- clicks through Odoo's link tracker ------------------------------------------

    @api.model
    def _shorten_links(self, body, base_url):
        """Route the http(s) links of ``body`` through Odoo's link tracker (``/r/<code>``).

        As ``mail.render.mixin._shorten_links`` but the tracker's title is the URL itself:
        sending a mail never fetches the linked pages.
        """
        if not body or tools.is_html_empty(body):
            return body
        root = lxml.html.fromstring(str(body))
        nodes, links = find_links_with_urls_and_labels(
            root,
            base_url,
            skip_regex=r"^(?!https?://)",
            skip_prefix=f"{self.env['link.tracker'].get_base_url()}/r/",
            skip_list=LINK_SKIP_LIST,
        )
        if not nodes:
            return body
        trackers = (
            self.env["link.tracker"]
            .sudo()
            .search_or_create([{**link, "title": link["url"]} for link in links])
        )
        for node, tracker in zip(nodes, trackers, strict=True):
            node.set("href", tracker.short_url)
        return body.__class__(lxml.html.tostring(root, encoding="unicode", method="xml"))

    @api.model
    def _personalize_links(self, body, mail_mail_id, partner):
        """Give every link-tracker link of ``body`` the recipient: ``/r/<code>/c/<token>``.

        ``partner`` is the recipient of this copy; a copy for the plain addresses of the
        mail (no partner) carries 0 and counts for each of them.
        """
        token = self._link_token(mail_mail_id, partner.id if partner else 0)
        short = re.escape(f"{self.env['link.tracker'].get_base_url()}/r/")
        pattern = re.compile(rf"""(href=["'])({short}[A-Za-z0-9]+)(["'])""")
        return body.__class__(pattern.sub(rf"\1\2/c/{token}\3", str(body)))

    @api.model
    def _link_token(self, mail_mail_id, partner_id):
        """Signed recipient of a tracked link: ``<mail id>-<partner id or 0>-<hmac>``."""
        signature = tools.hmac(
            self.env(su=True), "crm_shop_link_click", (int(mail_mail_id), int(partner_id))
        )
        return f"{mail_mail_id}-{partner_id}-{signature}"

    @api.model
    def _line_from_link_token(self, token):
        """The tracking line (first one for plain addresses) a link token names, if any."""
        parts = (token or "").split("-", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return self.env["crm.shop.mail.tracking.line"]
        mail_id, partner_id = int(parts[0]), int(parts[1])
        if not tools.consteq(self._link_token(mail_id, partner_id), token):
            return self.env["crm.shop.mail.tracking.line"]
        tracking = self.search([("mail_mail_id", "=", mail_id)], limit=1)
        lines = tracking.line_ids.filtered(lambda line: line.partner_id.id == (partner_id or False))
        return lines[:1]

    # --- clicks through the signed redirect of mails sent before the link tracker ----

    @api.model
    def _click_token(self, mail_mail_id, url):
        signature = tools.hmac(self.env(su=True), "crm_shop_track_click", (mail_mail_id, url))
        return f"{mail_mail_id}-{signature}"

    @api.model
    def _from_click_token(self, token, url):
        """The tracking a tracked link was made for, or empty if the signature is wrong."""
        mail_id, _sep, _signature = (token or "").partition("-")
        if not mail_id.isdigit() or not tools.consteq(
            self._click_token(int(mail_id), url or ""), token
        ):
            return self.browse()
        return self.search([("mail_mail_id", "=", int(mail_id))], limit=1)

    @api.private
    def _record_clicked(self, when):
        lines = self.line_ids.filtered(lambda line: line.status in ("sent", "delivered", "opened"))
        lines.write({"status": "clicked", "status_date": when})
        self.line_ids.filtered(lambda line: not line.opened_date).write({"opened_date": when})
        self.line_ids.filtered(lambda line: not line.clicked_date).write({"clicked_date": when})
