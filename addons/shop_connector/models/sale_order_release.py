from decimal import Decimal

from markupsafe import Markup

from odoo import api, models

from ..services.order_checks import StockNeed, check_stock
from ..services.order_release import decide_credit


class SaleOrder(models.Model):
    """Release of a shop order: credit and stock checks, carrier, exception cases."""

    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    # --- release ---------------------------------------------------------------------

    def _shop_check_credit(self):
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id.sudo()
        limit = partner.credit_limit if partner.use_partner_credit_limit else 0.0
        if not limit and self.company_id.account_use_credit_limit:
            limit = self.company_id.account_default_credit_limit
        decision = decide_credit(partner.credit, self.amount_total, limit)
        if decision.state == "released":
            self._shop_release()
        else:
            self._shop_raise_exception(decision.reason)

    def _shop_release(self):
        """Confirm the order: its deliveries are created and reserved."""
        self.ensure_one()
        self.shop_release_state = "released"
        carrier = self._shop_choose_carrier()
        if carrier and not self.carrier_id:
            self.carrier_id = carrier
        if self.state in ("draft", "sent"):
            self.action_confirm()
            self._shop_check_stock()
        else:  # resumed after a case: reserve what arrived in the meantime
            self.sudo()._shop_first_moves().picking_id.action_assign()

    def _shop_first_moves(self):
        """The first step of each delivery chain of goods kept in stock, not yet reserved."""
        return self.picking_ids.move_ids.filtered(
            lambda m: (
                not m.move_orig_ids
                and m.product_id.is_storable
                and m.state in ("confirmed", "waiting", "partially_available")
            )
        )

    def _shop_check_stock(self):
        """A delivery the warehouse cannot reserve in full holds the order in a case.

        Only where the warehouse reserves at confirmation: with manual or dated
        reservation an unreserved line is no shortfall.
        """
        self.ensure_one()
        moves = self._shop_first_moves().filtered(
            lambda m: m.picking_type_id.reservation_method == "at_confirm"
        )
        shortfall = check_stock(
            StockNeed(
                move.product_id.display_name,
                Decimal(str(move.product_uom_qty)),
                Decimal(str(move.quantity)),
                move.product_uom.name,
            )
            for move in moves
        )
        if shortfall:
            self.shop_release_state = "exception"
            self.shop_case_id = self._shop_open_case(
                self.env._("Order %s: stock shortfall", self.name), shortfall.message
            )

    def _shop_choose_carrier(self):
        """The carrier of the shipments; shipping_exchange may override this hook.

        The order's own delivery method wins (set at import from the shop's shipping
        method, or by a person); else the backend decides, else its default method.
        """
        self.ensure_one()
        if self.carrier_id:
            return self.carrier_id
        backend = self.shop_backend_id
        if hasattr(backend, "_get_carrier_for_order"):
            return backend._get_carrier_for_order(self)
        if "carrier_id" in backend._fields and backend.carrier_id:
            return backend.carrier_id
        return backend.default_carrier_id

    def _shop_raise_exception(self, reason):
        """Hold the order and open a case in the team inbox for a person to decide."""
        self.ensure_one()
        self.shop_release_state = "exception"
        self.shop_case_id = self._shop_open_case(
            self.env._("Order %s needs a decision", self.name), reason
        )

    @api.private
    def _shop_open_case(self, title, body, template_xmlid=None):
        """Open a team inbox case about this order (exceptions, overdue payments)."""
        self.ensure_one()
        backend = self.shop_backend_id
        vals = {
            "name": title,
            "partner_id": self.partner_id.id,
            "email_from": self.partner_id.email,
            "company_id": self.company_id.id,
            "sale_order_id": self.id,
            "description": Markup("<p>%s</p>") % body,
        }
        if hasattr(backend, "_get_exception_queue"):
            vals["queue_id"] = backend._get_exception_queue().id
        case = self.env["crm.shop.case"].sudo().create(vals)
        self.message_post(
            body=Markup(self.env._("Case %(case)s opened: %(reason)s"))
            % {"case": case._get_html_link(title=case.display_name), "reason": body},
            subtype_xmlid="mail.mt_note",
        )
        if template_xmlid:
            case.message_post_with_source(
                self.env.ref(template_xmlid), subtype_xmlid="mail.mt_comment"
            )
        return case
