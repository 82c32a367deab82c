import logging
from datetime import timedelta
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models

from ..services.order_checks import StockNeed, check_stock
from ..services.order_release import decide_credit, decide_release
from .shop_order_import_batch import running_batch

_logger = logging.getLogger(__name__)

RELEASE_STATES = [
    ("waiting_payment", "Waiting for payment"),
    ("credit_check", "Credit check"),
    ("released", "Released"),
    ("exception", "Exception"),
    ("done", "Done"),
]
INVOICE_MAIL_STATES = [("done", "Sent"), ("error", "Failed")]


class SaleOrder(models.Model):
    _inherit = "sale.order"

    shop_backend_id = fields.Many2one(
        "shop.backend", string="Shop", readonly=True, index="btree_not_null", copy=False
    )
    shop_external_ref = fields.Char(
        string="Shop order number", readonly=True, copy=False, index="btree_not_null"
    )
    shop_payment_method = fields.Char(
        readonly=True,
        copy=False,
        help="How the customer paid in the shop: prepayment, bank_transfer, paypal, "
        "credit_card, marketplace_paid, invoice or cod.",
    )
    shop_release_state = fields.Selection(
        RELEASE_STATES,
        string="Shop release",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
    )
    shop_paid_date = fields.Datetime(string="Shop payment received", readonly=True, copy=False)
    shop_case_id = fields.Many2one(
        "crm.shop.case", string="Exception case", readonly=True, copy=False
    )
    shop_overdue_case_id = fields.Many2one(
        "crm.shop.case", string="Payment reminder case", readonly=True, copy=False
    )
    shop_received_mail_sent = fields.Boolean(readonly=True, copy=False)
    shop_invoice_mail_state = fields.Selection(
        INVOICE_MAIL_STATES, string="Shop invoice mail", readonly=True, copy=False
    )
    shop_invoice_mail_error = fields.Text(readonly=True, copy=False)

    # --- interface for the import (W1) and the payment matching (W3) ---------------

    @api.private
    def _shop_start_processing(self):
        """Send the order confirmation and apply the release rule of the payment method.

        Orders already started are left alone, so calling this twice does nothing twice.
        """
        for order in self.filtered(lambda o: not o.shop_release_state and o.state == "draft"):
            decision = decide_release(order.shop_payment_method)
            order.shop_release_state = decision.state
            order._shop_send_mail("shop_connector.mail_template_shop_order_received")
            if decision.state == "released":
                order._shop_release()
            elif decision.state == "credit_check":
                order._shop_check_credit()
            elif decision.state == "exception":
                order._shop_raise_exception(decision.reason)

    def action_shop_payment_received(self):
        """The payment of a waiting order arrived: release it (idempotent)."""
        for order in self:
            if not order.shop_paid_date:
                order.shop_paid_date = fields.Datetime.now()
            if order.shop_overdue_case_id:
                order.shop_overdue_case_id.message_post(
                    body=self.env._("The payment of order %s arrived.", order.name),
                    subtype_xmlid="mail.mt_note",
                )
            if order.shop_release_state == "waiting_payment":
                order._shop_release()
        return True

    def action_shop_resume(self):
        """The exception is resolved: continue with the payment rule (no-op otherwise).

        A person resolved it, so the credit check and an unknown method no longer hold the
        order; an unpaid prepayment still waits for its payment.
        """
        for order in self.filtered(lambda o: o.shop_release_state == "exception"):
            order.message_post(
                body=self.env._("Exception resolved by %s.", self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )
            if not order.shop_received_mail_sent:
                order._shop_send_mail("shop_connector.mail_template_shop_order_received")
            waits = decide_release(order.shop_payment_method).state == "waiting_payment"
            if waits and not order.shop_paid_date:
                order.shop_release_state = "waiting_payment"
            else:
                order._shop_release()
        return True

    def action_confirm(self):
        res = super().action_confirm()
        self.order_line.product_id.product_tmpl_id._shop_check_stock_threshold()
        return res

    @api.model
    def _cron_shop_payment_overdue(self, batch_size=50):
        """Open one payment reminder case per order waiting too long for its payment."""
        waiting = self.search(
            [("shop_release_state", "=", "waiting_payment"), ("shop_overdue_case_id", "=", False)],
            order="date_order, id",
        )
        now = fields.Datetime.now()
        due = waiting.filtered(
            lambda o: (
                o.shop_backend_id.payment_overdue_days > 0
                and o.date_order + timedelta(days=o.shop_backend_id.payment_overdue_days) <= now
            )
        )
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(due))
        for order in due[:batch_size]:
            locked = order._shop_try_lock_for_update().filtered(
                lambda o: not o.shop_overdue_case_id
            )
            if locked:
                locked._shop_open_overdue_case()
            if not cron._commit_progress(1):
                break

    def _shop_open_overdue_case(self):
        self.ensure_one()
        days = self.shop_backend_id.payment_overdue_days
        self.shop_overdue_case_id = self._shop_open_case(
            self.env._("Payment of order %s overdue", self.name),
            self.env._("No payment received %s days after the order.", days),
            template_xmlid="shop_connector.mail_template_shop_payment_reminder",
        )

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

    # --- after delivery ----------------------------------------------------------------

    @api.private
    def _shop_after_delivery(self, picking):
        """A delivery left: shipping mail, shop write-back and, once all left, the invoice."""
        self.ensure_one()
        picking._shop_send_shipping_mail()
        # the warehouse validates; shop write-back and invoicing run for the system
        self.env["shop.sync.job"].sudo()._queue_shipment(picking)
        if self.shop_release_state == "released" and all(
            p.state in ("done", "cancel") for p in self.picking_ids
        ):
            self.sudo()._shop_invoice_and_mail()
            self.sudo().shop_release_state = "done"

    def _shop_invoice_and_mail(self):
        """Create, post and mail the invoice; a failure is recorded, never raised."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                invoices = self.invoice_ids.filtered(lambda m: m.state != "cancel")
                if not invoices:
                    invoices = self._create_invoices()
                invoices.filtered(lambda m: m.state == "draft").action_post()
                unsent = invoices.filtered(lambda m: not m.is_move_sent)  # paid ones too
                if unsent:
                    self.env["account.move.send"]._generate_and_send_invoices(
                        unsent,
                        sending_methods={"email"},
                        mail_template=self.env.ref("shop_connector.mail_template_shop_invoice"),
                    )
        except Exception as exc:  # noqa: BLE001 - unit-of-work boundary, recorded
            _logger.info("Invoice of shop order %s failed: %s", self.name, exc)
            error = f"{type(exc).__name__}: {exc}"
            self.write({"shop_invoice_mail_state": "error", "shop_invoice_mail_error": error})
            self.message_post(
                body=self.env._("The invoice could not be created or sent: %s", error),
                subtype_xmlid="mail.mt_note",
            )
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Shop invoice failed"),
                note=error,
                user_id=self.user_id.id or self.env.uid,
            )
        else:
            self.write({"shop_invoice_mail_state": "done", "shop_invoice_mail_error": False})

    def action_shop_send_invoice(self):
        """Retry the invoice of a shipped shop order after a failure."""
        for order in self.filtered(lambda o: o.shop_invoice_mail_state == "error"):
            order._shop_invoice_and_mail()
        return True

    def _shop_customer_has_email(self, template):
        """False, with a note on the order, when the customer has no address to mail.

        Marketplace buyers often come without one (masked addresses are not stored): a
        mail queued for nobody would only end as a delivery error.
        """
        self.ensure_one()
        if self.partner_id.email:
            return True
        self.message_post(
            body=self.env._(
                "%(customer)s has no e-mail address: the mail “%(mail)s” was not sent.",
                customer=self.partner_id.display_name,
                mail=template.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return False

    def _shop_send_mail(self, template_xmlid):
        """Post the mail of ``template_xmlid``; the e-mail is queued, never sent inline.

        Sending inline would hold the import (or the warehouse) on the mail server after
        every order; the mail queue sends it within moments (its cron is triggered).
        """
        self.ensure_one()
        template = self.env.ref(template_xmlid)
        if not self._shop_customer_has_email(template):
            return
        self.message_post_with_source(template, subtype_xmlid="mail.mt_comment", force_send=False)
        batch = running_batch(self.env)
        if batch is not None:  # an import batch triggers the mail queue once, at its end
            batch.mail_queued = True
        else:
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        if template_xmlid == "shop_connector.mail_template_shop_order_received":
            self.shop_received_mail_sent = True
