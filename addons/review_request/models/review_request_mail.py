from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import hash_sign, html2plaintext, verify_hash_signed

from ..services.compose import MailContext, MailLink, compose
from ..services.replies import is_auto_reply
from ..services.routing import Line, Platform, route
from ..services.sentiment import analyse

OPTOUT_SCOPE = "review_request.optout"


class ReviewRequest(models.Model):
    """Mail side of a review request: links, composition, opt-out, replies."""

    _inherit = "review.request"  # pylint: disable=consider-merging-classes-inherited

    body_preview = fields.Html(
        string="Preview", compute="_compute_body_preview", sanitize=False, readonly=True
    )

    def _compute_body_preview(self):
        for request in self:
            try:
                request.body_preview = request._compose_body(track=False)
            except Exception as exc:  # noqa: BLE001 - a preview shows the reason instead
                request.body_preview = Markup("<p class='text-danger'>%s</p>") % str(exc)

    # ------------------------------------------------------------------ opt-out

    def _optout_token(self):
        self.ensure_one()
        return hash_sign(self.env(su=True), OPTOUT_SCOPE, self.id)

    def _optout_url(self):
        base = self.get_base_url()
        token = self._optout_token() if isinstance(self.id, int) else "preview"
        return "%s/review/optout/%s" % (base, token)

    @api.model
    @api.private
    def _from_optout_token(self, token):
        """Return the request signed in ``token``, or an empty recordset."""
        try:
            request_id = verify_hash_signed(self.env(su=True), OPTOUT_SCOPE, token)
        except (ValueError, UnicodeDecodeError):
            request_id = None
        if not isinstance(request_id, int):
            return self.browse()
        return self.sudo().browse(request_id).exists()

    @api.private
    def _opt_out(self):
        """Honour a one-click opt-out at once: no further invitations to the address.

        Shops often create a new contact per guest checkout, so every contact with the
        same e-mail address is marked, and :meth:`_is_opted_out` checks by address too.
        """
        now = fields.Datetime.now()
        partners = self.partner_id.sudo()._review_same_address()
        to_mark = partners.filtered(lambda p: not p.review_opt_out_date)
        to_mark.write({"review_opt_out_date": now, "review_consent": False})
        for partner in to_mark:
            partner.message_post(body=self.env._("Opted out of review invitations."))
        self.opted_out = True
        requests = self.search([("partner_id", "in", partners.ids)])
        requests.filtered(lambda r: r.state in ("scheduled", "held", "error", "failed"))._stop(
            "the customer opted out of review invitations"
        )
        requests.filtered(lambda r: r.state == "sent").write({"next_attempt_date": False})

    def _is_opted_out(self):
        """True if the customer's contact or any contact with its address opted out."""
        return bool(self.partner_id.sudo()._review_same_address().filtered("review_opt_out_date"))

    # ------------------------------------------------------------------ composition

    def _route_links(self):
        order = self.sale_order_id
        lines = [
            Line(line.product_id.id, tuple(_category_path(line.product_id.categ_id)))
            for line in order.order_line
            if line.product_id and not line.display_type and line.product_id.type != "service"
        ]
        rules = (
            self.env["review.rule"]
            .search([("company_id", "in", [False, self.company_id.id])])
            .filtered(lambda rule: rule.platform_id.active)
        )
        platforms = rules.platform_id
        routed = route(
            lines,
            order.team_id.id or None,
            [rule._as_service_rule() for rule in rules],
            [Platform(p.id, p.supports_product_reviews) for p in platforms],
        )
        products = self.env["product.product"]
        return [
            (platforms.browse(link.platform_id), products.browse(link.product_id or []))
            for link in routed
        ]

    def _tracked_url(self, url, product, track):
        if not track:
            return url
        label = "review-%s-%s" % (self.id, product.id or 0)
        tracker = self.link_tracker_ids.filtered(lambda t: t.label == label and t.url == url)
        if not tracker:
            tracker = (
                self.env["link.tracker"]
                .sudo()
                .create({"url": url, "title": url, "label": label, "review_request_id": self.id})
            )
        return tracker.short_url

    def _compose_body(self, track=True):
        """Render the invitation in the customer's language; raise if it can't be."""
        return self._compose(track)[0]

    def _compose(self, track):
        """Return the invitation body and its links (service ``MailLink`` tuples)."""
        self.ensure_one()
        lang = self.partner_id.lang or self.env.lang or "en_US"
        request = self.with_context(lang=lang)
        links = []
        for platform, product in request._route_links():
            url = platform._render_link(self.sale_order_id, product or None, lang)
            links.append(
                MailLink(
                    platform.id,
                    platform.name,
                    self._tracked_url(url, product, track),
                    product.display_name if product else "",
                )
            )
        blocks = request.env["review.mail.block"].search(
            [("company_id", "in", [False, self.company_id.id])]
        )
        ctx = MailContext(
            customer=self.partner_id.name or "",
            order=self.sale_order_id.name,
            shop=self.company_id.name or "",
            lang=lang,
            team_id=self.team_id.id or None,
            links=tuple(links),
            optout_url=self._optout_url(),
        )
        label = request.env._("Unsubscribe from review invitations")
        body = compose([b._as_service_block() for b in blocks], ctx, label)
        return Markup(body), ctx.links

    def _send_mail(self, reminder=False):
        """Post the invitation to the customer; the mail is queued in this transaction."""
        self.ensure_one()
        request = self.with_context(lang=self.partner_id.lang or self.env.lang)
        body, links = self._compose(track=True)
        self.platform_id = links[0].platform_id
        order = self.sale_order_id.name
        if reminder:
            subject = request.env._("Reminder: how did you like your order %s?", order)
        else:
            subject = request.env._("How did you like your order %s?", order)
        company = self.company_id
        self.with_context(mail_notify_force_send=False).message_post(
            body=body,
            subject=subject,
            partner_ids=self.partner_id.ids,
            author_id=company.partner_id.id,
            email_from=company.email_formatted or None,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )

    def _notify_by_email_get_headers(self, headers=None):
        headers = super()._notify_by_email_get_headers(headers=headers)
        if len(self) == 1:
            headers["List-Unsubscribe"] = "<%s>" % self._optout_url()
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return headers

    # ------------------------------------------------------------------ replies

    def message_update(self, msg_dict, update_vals=None):
        """A reply to an invitation becomes a case of the team inbox."""
        result = super().message_update(msg_dict, update_vals=update_vals)
        if is_auto_reply(msg_dict.get("subject")):
            return result  # kept in the chatter, no case for an out-of-office answer
        for request in self:
            request._create_feedback_case(msg_dict)
        return result

    def _create_feedback_case(self, msg_dict):
        self.ensure_one()
        text = html2plaintext(msg_dict.get("body") or "")
        sentiment = analyse("%s\n%s" % (msg_dict.get("subject") or "", text))
        case = (
            self.env["crm.shop.case"]
            .sudo()
            .create(
                {
                    "name": self.env._("Review reply: %s", self.sale_order_id.name),
                    "partner_id": msg_dict.get("author_id") or self.partner_id.id,
                    "email_from": msg_dict.get("email_from"),
                    "description": msg_dict.get("body"),
                    "sale_order_id": self.sale_order_id.id,
                    "review_request_id": self.id,
                    "is_review_feedback": True,
                    "priority": "1" if sentiment.is_complaint else "0",
                    # no review queue on the team: the company's exception queue (with SLA)
                    "queue_id": self.env["crm.shop.queue"]
                    ._shop_exception_queue(self.company_id, self.team_id.review_queue_id)
                    .id,
                    "company_id": self.company_id.id,
                }
            )
        )
        self.write(
            {
                "reply_count": self.reply_count + 1,
                "complaint": self.complaint or sentiment.is_complaint,
                "next_attempt_date": False,
            }
        )
        return case


def _category_path(category):
    """The category then its parents, nearest first."""
    path = []
    while category:
        path.append(category.id)
        category = category.parent_id
    return path
