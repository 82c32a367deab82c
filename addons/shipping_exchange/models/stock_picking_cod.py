"""Cash on delivery is collected once per order: by the first delivery of the order that
reached a carrier with it. Later deliveries of the order (backorders, deliveries split by
the warehouse) go without; a delivery sent again (retry) keeps what it had."""

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from .stock_picking import UNRESERVED_MOVE_STATES, _dec

# an outgoing exchange record in one of these states reached the carrier
REACHED_CARRIER_STATES = ("sent", "acknowledged", "confirmed", "done")
# ids of the deliveries built with cash on delivery in the current transaction (one batch
# file): the cursor's post-commit data outlives savepoints, is dropped at commit/rollback
_BUILT_WITH_COD = "shipping_exchange.cod_picking_ids"


class StockPicking(models.Model):
    _inherit = "stock.picking"  # pylint: disable=consider-merging-classes-inherited

    shipping_exchange_cod_sent = fields.Boolean(
        string="Sent with cash on delivery",
        readonly=True,
        copy=False,
        help="The delivery order last built for the carrier asks it to collect the order "
        "amount. An order's amount is collected once, by the first of its deliveries that "
        "reached the carrier.",
    )

    def _shipping_exchange_cod_order(self):
        """The sale order of this delivery if it is paid cash on delivery, else empty."""
        order = self._shipping_exchange_sale_order()
        if order and "shop_payment_method" in order._fields and order.shop_payment_method == "cod":
            return order
        return order.browse()

    @api.model
    def _shipping_exchange_cod_collected_domain(self):
        """Deliveries of orders whose amount another delivery took to the carrier."""
        reached = Domain("direction", "=", "out") & Domain(
            "state", "in", list(REACHED_CARRIER_STATES)
        )
        collector = (
            Domain("shipping_exchange_cod_sent", "=", True)
            & Domain("state", "!=", "cancel")  # a cancelled delivery collected nothing
            & Domain("shipping_exchange_record_ids", "any", reached)
        )
        return Domain("sale_id", "any", Domain("picking_ids", "any", collector))

    def _shipping_exchange_cod_collector(self, order):
        """The other delivery of ``order`` that collects its amount: the first that reached
        the carrier with cash on delivery, or one built with it in this transaction (the
        same batch file, not marked sent yet). Empty: this delivery collects it."""
        self.ensure_one()
        others = (order.picking_ids - self).filtered(
            lambda p: p.shipping_exchange_cod_sent and p.state != "cancel"
        )
        if not others:
            return others
        built_now = self.env.cr.postcommit.data.get(_BUILT_WITH_COD, set())
        records = self.env["shipping.exchange.record"].search(
            Domain("direction", "=", "out")
            & Domain("picking_id", "in", others.ids)
            & (
                Domain("state", "in", list(REACHED_CARRIER_STATES))
                | (
                    Domain("state", "in", ["pending", "error"])
                    & Domain("picking_id", "in", list(built_now))
                )
            ),
            order="id",
            limit=1,
        )
        return records.picking_id

    @api.private
    def _shipping_exchange_cod(self):
        """``(amount, currency)`` the carrier collects with this delivery, ``(None, "")``
        for nothing; part of building its delivery order (written on the delivery)."""
        self.ensure_one()
        order = self._shipping_exchange_cod_order()
        collector = self._shipping_exchange_cod_collector(order) if order else order
        if not order or collector:
            if collector:
                self._shipping_exchange_note_cod_collected(collector)
            self.shipping_exchange_cod_sent = False
            return None, ""
        if self.move_ids.filtered_domain([("state", "in", list(UNRESERVED_MOVE_STATES))]):
            # reserved in full when it was routed, not any more: the COD amount is the order's
            raise PermanentError(
                self.env._(
                    "Delivery %s is cash on delivery but not reserved in full: the carrier "
                    "would collect the whole order amount for a part of it. Reserve the rest, "
                    "then retry.",
                    self.name,
                )
            )
        self.shipping_exchange_cod_sent = True
        self.env.cr.postcommit.data.setdefault(_BUILT_WITH_COD, set()).add(self.id)
        return _dec(order.amount_total), order.currency_id.name or ""

    def _shipping_exchange_note_cod_collected(self, collector):
        body = self.env._(
            "Cash on delivery is collected with delivery %s: this delivery goes to the "
            "carrier without it.",
            collector.name,
        )
        if not self.message_ids.filtered(lambda m: body in str(m.body or "")):
            self.message_post(body=body, subtype_xmlid="mail.mt_note")
