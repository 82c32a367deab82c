import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import html2plaintext

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..services.delivery_xml import Delivery, DeliveryLine, Recipient
from ..services.packstation import detect_locker
from ..services.routing import DeliveryFacts, route
from .stock_move_reservation import ROUTE_LATER

_logger = logging.getLogger(__name__)

# a move in one of these states is not reserved in full
UNRESERVED_MOVE_STATES = ("draft", "waiting", "confirmed", "partially_available")


def _dec(value):
    return Decimal(str(value or 0))


class StockPicking(models.Model):
    _inherit = "stock.picking"

    shipping_exchange_record_ids = fields.One2many(
        "shipping.exchange.record", "picking_id", string="Exchange records"
    )
    shipping_exchange_held = fields.Boolean(
        string="Held for shipping", readonly=True, copy=False, index="btree_not_null"
    )
    shipping_exchange_hold_reason = fields.Text(readonly=True, copy=False)
    shipping_exchange_case_id = fields.Many2one(
        "crm.shop.case", string="Shipping case", readonly=True, copy=False
    )
    shipping_exchange_sent_quantities = fields.Json(
        string="Quantities sent to the carrier",
        readonly=True,
        copy=False,
        help="The quantity of each line in the delivery order last built for the carrier "
        "(what was reserved then); a confirmation ships at most these.",
    )

    def action_assign(self):
        result = super().action_assign()
        # also routes deliveries that were already reserved before the exchange was set up
        self._shipping_exchange_route_ready()
        return result

    @api.model
    def _shipping_exchange_ready_domain(self):
        sent = Domain("direction", "=", "out") & Domain("state", "!=", "cancel")
        return (
            Domain("picking_type_code", "=", "outgoing")
            & Domain("state", "=", "assigned")
            & Domain("shipping_exchange_held", "=", False)
            & Domain("shipping_exchange_record_ids", "not any", sent)
            & ~self._shipping_exchange_cod_partial_domain()
        )

    @api.model
    def _shipping_exchange_cod_partial_domain(self):
        """Cash-on-delivery deliveries not reserved in full: they wait for the rest of the
        goods, as the carrier collects the whole order amount from one shipment (unless
        another delivery of the order took it to the carrier already)."""
        if "sale_id" not in self._fields or "shop_payment_method" not in self.sale_id._fields:
            return Domain.FALSE  # without sale_stock and the shop connector, no COD
        return (
            Domain("sale_id", "any", Domain("shop_payment_method", "=", "cod"))
            & Domain("move_ids", "any", Domain("state", "in", list(UNRESERVED_MOVE_STATES)))
            & ~self._shipping_exchange_cod_collected_domain()
        )

    @api.model
    def _cron_route_deliveries(self, batch_size=100):
        """Give each ready delivery its exchange record (or hold it), one commit each."""
        ready = self._shipping_exchange_ready_domain()
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=self.search_count(ready))
        for picking in self.search(ready, limit=batch_size, order="id"):
            locked = picking._shop_try_lock_for_update().filtered_domain(ready)
            if locked:
                locked._shipping_exchange_route_or_hold()
            if not cron._commit_progress(1):
                break

    def _shipping_exchange_route_or_hold(self):
        """Route one delivery; a crash holds it with the reason (a case, "Route again")."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._shipping_exchange_route()
        except Exception as exc:
            _logger.warning("Routing delivery %s failed", self.name, exc_info=True)
            self._shipping_exchange_hold(self.env._("Routing failed: %s", exc))

    @api.private
    def _shipping_exchange_route_ready(self):
        """Route the deliveries of ``self`` that are ready now (called by the stock operation
        that made them ready). A routing failure must not undo that operation: it is logged
        and the scheduled run routes the delivery later."""
        if self.env.context.get(ROUTE_LATER):
            return  # in the middle of a reservation: routed once it is done
        # stock and sales users need no exchange rights to make a delivery ready
        ready = self.sudo().filtered_domain(self._shipping_exchange_ready_domain())
        if not ready or not ready.env["shipping.exchange.rule"].search_count([], limit=1):
            return
        for picking in ready:
            try:
                with self.env.cr.savepoint():
                    picking._shipping_exchange_route()
            except Exception:  # logged below; the stock operation goes on, the cron retries
                _logger.warning(
                    "Delivery %s could not be routed now, the scheduled run retries it",
                    picking.name,
                    exc_info=True,
                )

    @api.private
    def _shipping_exchange_route(self):
        Record = self.env["shipping.exchange.record"]
        for picking in self:
            rules = self.env["shipping.exchange.rule"].search(
                [("company_id", "in", [picking.company_id.id, False])]
            )
            if not rules:
                continue  # the exchange is not set up for this company
            profile_id, reasons = route(
                [r._spec() for r in rules], picking._shipping_exchange_facts()
            )
            if profile_id:
                Record._enqueue(picking, self.env["shipping.exchange.profile"].browse(profile_id))
            else:
                picking._shipping_exchange_hold("\n".join(reasons))

    def _shipping_exchange_hold(self, reason):
        self.ensure_one()
        # no profile serves the delivery, so none names a queue: the company's exceptions
        queue = self.env["crm.shop.queue"]._shop_exception_queue(self.company_id)
        case = self.env["crm.shop.case"].create(
            {
                "name": self.env._("No carrier can take delivery %s", self.name),
                "queue_id": queue.id,
                "company_id": self.company_id.id,
                "partner_id": self.partner_id.id,
                "sale_order_id": self._shipping_exchange_sale_order().id,
                "description": self.env._("No routing rule can serve this delivery: %s", reason),
            }
        )
        self.write(
            {
                "shipping_exchange_held": True,
                "shipping_exchange_hold_reason": reason,
                "shipping_exchange_case_id": case.id,
            }
        )

    def action_shipping_exchange_release_hold(self):
        """After the delivery was changed: route it again."""
        self.write({"shipping_exchange_held": False, "shipping_exchange_hold_reason": False})
        ready = self.filtered_domain(self._shipping_exchange_ready_domain())
        ready.sudo()._shipping_exchange_route()

    def _shipping_exchange_sale_order(self):
        if "sale_id" in self._fields:  # sale_stock installed
            return self.sale_id
        return self.env["sale.order"]

    def _shipping_exchange_locker(self):
        partner = self.partner_id
        return detect_locker(partner.street or "", partner.street2 or "", partner.name or "")

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

    def _shipping_exchange_facts(self):
        self.ensure_one()
        quantities = self._shipping_exchange_quantities()
        moves = self.env["stock.move"].union(*quantities)
        categories = moves.product_id.categ_id
        parents = self.env["product.category"].search([("id", "parent_of", categories.ids)])
        order = self._shipping_exchange_sale_order()
        return DeliveryFacts(
            weight_kg=sum(
                (_dec(m.product_id.weight) * qty for m, qty in quantities.items()), Decimal(0)
            ),
            volume_m3=sum(
                (_dec(m.product_id.volume) * qty for m, qty in quantities.items()), Decimal(0)
            ),
            country=self.partner_id.country_id.code or "",
            packstation=self._shipping_exchange_locker().packstation,
            category_ids=frozenset(parents.ids),
            team_id=order.team_id.id or None,
            order_amount=_dec(order.amount_total) if order else None,
            longest_side_cm=max(
                (
                    _dec(max(p.shipping_length_cm, p.shipping_width_cm, p.shipping_height_cm))
                    for p in moves.product_id
                ),
                default=Decimal(0),
            ),
        )

    def _shipping_exchange_delivery(self):
        """The pure :class:`Delivery` the carrier gets for this picking: the reserved
        quantities, kept on the picking as the cap of the confirmation."""
        self.ensure_one()
        quantities = self._shipping_exchange_quantities()
        partner = self.partner_id
        locker = self._shipping_exchange_locker()
        recipient = Recipient(
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
            recipient=recipient,
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
            shipped = {}
            for sku, qty in confirmation.lines:
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
