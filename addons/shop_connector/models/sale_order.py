from datetime import timedelta

from odoo import api, fields, models

from ..services.order_release import decide_release

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
