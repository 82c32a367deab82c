from werkzeug.urls import url_encode

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

OPEN_STATES = ["sent", "acknowledged"]


class ShippingExchangePortal(CustomerPortal):
    """The carrier's own portal users confirm deliveries sent to their profile."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "shipping_count" in counters:
            Record = request.env["shipping.exchange.record"]
            values["shipping_count"] = (
                Record.search_count([("state", "in", OPEN_STATES)])
                if Record.has_access("read")
                else 0
            )
        return values

    @http.route("/my/shipping", type="http", auth="user", website=True)
    def portal_my_shipping(self, error=None, received=None, **kw):
        # searched as the portal user: the record rules keep other profiles out
        records = (
            request.env["shipping.exchange.record"]
            .search(
                [("direction", "=", "out"), ("state", "in", OPEN_STATES)], order="sent_date, id"
            )
            .sudo()
        )
        entries = records.search(
            [
                ("direction", "=", "in"),
                ("source", "=", "portal"),
                ("picking_id", "in", records.picking_id.ids),
            ],
            order="id desc",
        )
        entry_states = {}
        for entry in entries:
            entry_states.setdefault(entry.picking_id.id, entry.state)
        sent = {record.id: record._portal_sent_quantities() for record in records}
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "records": records,
                "moves": {record.id: record._portal_moves(sent[record.id]) for record in records},
                "sent": sent,
                "entry_states": entry_states,
                "page_name": "shipping",
                "error": error,
                "received": received,
            }
        )
        return request.render("shipping_exchange.portal_my_shipping", values)

    @http.route(
        "/my/shipping/<int:record_id>/confirm",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_shipping_confirm(self, record_id, tracking_ref="", **kw):
        record = request.env["shipping.exchange.record"].browse(record_id)
        try:
            record.check_access("read")
        except (AccessError, MissingError) as exc:
            raise request.not_found() from exc
        quantities = {}
        for key, value in kw.items():
            if key.startswith("qty_") and key[4:].isdigit():
                quantities[int(key[4:])] = value
        try:
            record.sudo()._confirm_from_portal(tracking_ref, quantities)
        except UserError as exc:
            return request.redirect("/my/shipping?" + url_encode({"error": str(exc)}))
        return request.redirect("/my/shipping?" + url_encode({"received": record.sudo().name}))
