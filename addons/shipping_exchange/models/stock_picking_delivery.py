"""The delivery order a carrier gets for a picking, and the carrier's confirmation
written back onto it (shipped quantities, tracking, validation). Routing and holding
are in ``stock_picking.py``, cash on delivery in ``stock_picking_cod.py``."""

from decimal import Decimal

from odoo import api, models
from odoo.tools import html2plaintext

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..services.delivery_xml import Delivery, DeliveryLine, Recipient
from .stock_picking import _dec


class StockPicking(models.Model):
    _inherit = "stock.picking"  # pylint: disable=consider-merging-classes-inherited

    def _shipping_exchange_quantities(self):
        """{move: quantity to ship}: what is reserved of each line, at most what was
        ordered; a line with nothing reserved is left out (it stays for a backorder)."""
        self.ensure_one()
        quantities = {}
        for move in self.move_ids.filtered(lambda m: m.state != "cancel"):
            uom = move.product_uom
            if uom.compare(move.quantity, move.product_uom_qty) >= 0:
                quantities[move] = _dec(move.product_uom_qty)
            elif not uom.is_zero(move.quantity):
                quantities[move] = _dec(uom.round(move.quantity))
        return quantities

    def _shipping_exchange_sent(self):
        """{move: quantity} of the delivery order the carrier got; before one was built,
        what would be sent now."""
        self.ensure_one()
        sent = self.shipping_exchange_sent_quantities
        if not sent:
            return self._shipping_exchange_quantities()
        return {move: Decimal(sent[str(move.id)]) for move in self.move_ids if str(move.id) in sent}

    def _shipping_exchange_recipient(self):
        partner = self.partner_id
        locker = self._shipping_exchange_locker()
        return Recipient(
            name=partner.name or "",
            company=(partner.parent_id.is_company and partner.parent_id.name) or "",
            street=partner.street or "",
            street2=partner.street2 or "",
            zip=partner.zip or "",
            city=partner.city or "",
            country=partner.country_id.code or "",
            email=partner.email or "",
            phone=partner.phone or "",
            packstation=locker.packstation,
            post_number=locker.post_number,
        )

    def _shipping_exchange_delivery(self):
        """The pure :class:`Delivery` the carrier gets for this picking: the reserved
        quantities, kept on the picking as the cap of the confirmation."""
        self.ensure_one()
        quantities = self._shipping_exchange_quantities()
        lines = tuple(
            DeliveryLine(
                sku=move.product_id.default_code or "",
                name=move.product_id.display_name or "",
                quantity=qty,
                weight_kg=_dec(move.product_id.weight),
                ean=move.product_id.barcode or "",
            )
            for move, qty in quantities.items()
        )
        order = self._shipping_exchange_sale_order()
        # cash on delivery, collected once per order (stock_picking_cod.py)
        cod_amount, cod_currency = self._shipping_exchange_cod()
        self.shipping_exchange_sent_quantities = {
            str(move.id): str(qty) for move, qty in quantities.items()
        }
        return Delivery(
            reference=self.name,
            order_reference=order.name or self.origin or self.name,
            recipient=self._shipping_exchange_recipient(),
            lines=lines,
            cod_amount=cod_amount,
            cod_currency=cod_currency,
            shipping_date=self.scheduled_date.date() if self.scheduled_date else None,
            note=html2plaintext(self.note) if self.note else "",
        )

    @api.private
    def _shipping_exchange_confirm(self, confirmation, move_quantities=None):
        """Write tracking and shipped quantities, then validate (backorder for the rest).

        ``move_quantities``: {move id: shipped quantity} instead of the confirmation's
        lines (the portal); a move left out ships what was sent. A line ships at most
        what the carrier was sent (the reserved part of a partly reserved delivery).
        """
        self.ensure_one()
        if self.state in ("done", "cancel"):
            raise PermanentError(
                self.env._(
                    "Delivery %(delivery)s is already %(state)s.",
                    delivery=self.name,
                    state=self.state,
                )
            )
        moves = self.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        sent = self._shipping_exchange_sent()
        if move_quantities is not None:
            self._shipping_exchange_set_move_quantities(moves, move_quantities, sent)
        elif confirmation.lines:
            self._shipping_exchange_set_confirmed_lines(moves, confirmation.lines, sent)
        else:
            for move in moves:
                move.quantity = float(sent.get(move, Decimal(0)))
        moves.picked = True
        if confirmation.tracking_ref:
            self.carrier_tracking_ref = confirmation.tracking_ref
        self.with_context(skip_backorder=True, skip_sms=True).button_validate()

    def _shipping_exchange_set_move_quantities(self, moves, move_quantities, sent):
        unknown = set(move_quantities) - set(moves.ids)
        if unknown:
            raise PermanentError(
                self.env._("Delivery %s was changed since the quantities were entered.", self.name)
            )
        for move in moves:
            qty = _dec(move_quantities.get(move.id, sent.get(move, Decimal(0))))
            if qty < 0 or qty > _dec(move.product_uom_qty):
                raise PermanentError(
                    self.env._(
                        "Delivery %(delivery)s: %(qty)s of %(product)s is not between 0 and "
                        "the ordered quantity.",
                        delivery=self.name,
                        qty=qty,
                        product=move.product_id.display_name,
                    )
                )
            move.quantity = float(min(qty, sent.get(move, Decimal(0))))

    def _shipping_exchange_set_confirmed_lines(self, moves, confirmed_lines, sent):
        """The carrier's ``(sku, quantity)`` lines onto ``moves``: each SKU's total is
        spread over its moves in order, each at most what it was sent."""
        shipped = {}
        for sku, qty in confirmed_lines:
            shipped[sku] = shipped.get(sku, Decimal(0)) + qty
        unknown = set(shipped) - set(moves.product_id.mapped("default_code"))
        if unknown:
            raise PermanentError(
                self.env._(
                    "Delivery %(delivery)s has no product %(skus)s.",
                    delivery=self.name,
                    skus=", ".join(sorted(unknown)),
                )
            )
        for move in moves:
            left = shipped.get(move.product_id.default_code, Decimal(0))
            qty = min(left, sent.get(move, Decimal(0)))
            shipped[move.product_id.default_code] = left - qty
            move.quantity = float(qty)
