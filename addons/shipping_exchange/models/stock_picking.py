import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.fields import Domain

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
