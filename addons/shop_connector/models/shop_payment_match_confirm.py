from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class ShopPaymentMatch(models.Model):
    """Confirming a proposal: access check, differences (credit or write-off), booking."""

    _inherit = "shop.payment.match"  # pylint: disable=consider-merging-classes-inherited

    amount_due = fields.Monetary(
        string="Amount due",
        compute="_compute_amount_due",
        help="What the chosen order or invoices still await, in the movement's currency.",
    )
    amount_difference = fields.Monetary(
        string="Paid too much (+) / too little (-)",
        compute="_compute_amount_due",
        help="Paid minus due. Too much stays as the customer's credit unless written off.",
    )
    difference_handling = fields.Selection(
        [("credit", "Keep as customer credit"), ("writeoff", "Write off the difference")],
        string="Difference",
        default="credit",
        required=True,
        help="Keep as customer credit: the difference stays open on the customer's account. "
        "Write off: a small difference (within the payment account's tolerance) is booked "
        "to its write-off account and the order or invoices are settled exactly.",
    )
    writeoff_amount = fields.Monetary(string="Written off", readonly=True, copy=False)
    confirmed_by_id = fields.Many2one("res.users", string="Confirmed by", readonly=True)
    confirmed_date = fields.Datetime(string="Confirmed on", readonly=True)

    @api.depends("statement_line_id.amount", "invoice_ids.amount_residual", "sale_order_id")
    def _compute_amount_due(self):
        for match in self:
            line = match.statement_line_id.sudo()
            due = match._due_in(line.currency_id) if line else 0.0
            match.amount_due = due
            match.amount_difference = line.amount - due if due else 0.0

    def _due_in(self, currency):
        """What the chosen invoices or order still await, converted to ``currency``."""
        line = self.statement_line_id.sudo()
        company, day = line.company_id, line.date or fields.Date.context_today(self)
        if self.invoice_ids:
            return sum(
                invoice.currency_id._convert(invoice.amount_residual, currency, company, day)
                for invoice in self.invoice_ids.sudo()
            )
        order = self.sale_order_id.sudo()
        if not order:
            return 0.0
        paid = self._paid_on_order(order)
        return order.currency_id._convert(order.amount_total, currency, company, day) - paid

    def _paid_on_order(self, order):
        """Confirmed payments for ``order`` (less what was written off), journal currency."""
        done = self.sudo().search(
            [("sale_order_id", "=", order.id), ("state", "in", ("confirmed", "auto_confirmed"))]
        )
        return sum(m.statement_line_id.amount - m.writeoff_amount for m in done)

    def action_confirm(self):
        """Book the payments as proposed; shop staff need no accounting rights for it.

        The user must be shop connector staff and allowed to write the proposals (record
        rules: their companies); only the booking itself runs with elevated rights.
        """
        self._check_confirm_access()
        for match in self:
            match._confirm()
        return True

    def _check_confirm_access(self):
        if not self.env.user.has_group("shop_connector.group_user"):
            raise AccessError(
                self.env._("Only shop back-office staff (Shop Connector: User) confirm payments.")
            )
        self.check_access("write")

    @api.private
    def _confirm(self, auto=False):
        """Reconcile the movement with the invoice(s), invoicing a prepayment order first.

        Callers check the access (:meth:`_check_confirm_access`); the accounting records
        are written with elevated rights here, the proposal itself as the user.
        """
        self.ensure_one()
        line = self._confirmable_line()
        writeoff = self._writeoff()
        due, difference = self.amount_due, self.amount_difference
        invoices, order = self.invoice_ids.sudo(), self.sale_order_id.sudo()
        if (invoices.company_id | order.company_id) - line.company_id:
            raise UserError(self.env._("The order or invoices belong to another company."))
        if invoices:
            line._shop_reconcile_invoices(invoices, writeoff)
            partner = invoices.partner_id.commercial_partner_id[:1]
        elif order:
            partner = order.partner_id.commercial_partner_id
            line._shop_book_to_receivable(partner, order.currency_id, writeoff)
        else:
            raise UserError(self.env._("Pick an order or an invoice first."))
        self.write(
            {
                "state": "auto_confirmed" if auto else "confirmed",
                "writeoff_amount": writeoff[1] if writeoff else 0.0,
                "confirmed_by_id": self.env.user.id,
                "confirmed_date": fields.Datetime.now(),
            }
        )
        self._note_difference(writeoff, due, difference)
        (line.shop_match_ids - self).filtered(lambda m: m.state == "proposed").sudo().write(
            {"state": "rejected"}
        )
        self.env["shop.payer.mapping"].sudo()._learn(line, self.partner_id or partner)
        if order and not invoices:
            self._settle_order(order)
        self._release_paid_orders(invoices)
        return True

    def _release_paid_orders(self, invoices):
        """Release the orders of ``invoices`` that no posted invoice leaves unpaid."""
        for sale in invoices.line_ids.sale_line_ids.order_id:
            if not sale.invoice_ids.filtered(
                lambda m: m.state == "posted" and m.payment_state not in ("paid", "in_payment")
            ):
                self._release(sale)

    def _confirmable_line(self):
        """The movement of this proposal, when the proposal can still be confirmed."""
        if self.state != "proposed":
            raise UserError(self.env._("Only a proposed match can be confirmed."))
        line = self.statement_line_id.sudo()
        if line.is_reconciled:
            raise UserError(self.env._("This movement is already reconciled."))
        return line

    def _writeoff(self):
        """``(account, difference)`` to write off, or None to keep the difference open."""
        difference = self.amount_difference
        currency = self.statement_line_id.sudo().currency_id
        if self.difference_handling != "writeoff" or currency.is_zero(difference):
            return None
        account = self.payment_account_id.sudo()
        if not account.writeoff_account_id:
            raise UserError(
                self.env._(
                    "Payment account %s has no write-off account: keep the difference as "
                    "customer credit or ask a manager to set one.",
                    account.name,
                )
            )
        if currency.compare_amounts(abs(difference), account.writeoff_tolerance) > 0:
            raise UserError(
                self.env._(
                    "The difference of %(difference)s is above the write-off tolerance of "
                    "%(tolerance)s: keep it as customer credit.",
                    difference=difference,
                    tolerance=account.writeoff_tolerance,
                )
            )
        return account.writeoff_account_id, difference

    def _note_difference(self, writeoff, due, difference):
        """Say on the proposal what became of a difference between paid and due."""
        currency = self.statement_line_id.sudo().currency_id
        if writeoff:
            body = self.env._(
                "Difference of %(amount)s %(currency)s written off to %(account)s by %(user)s.",
                amount=writeoff[1],
                currency=currency.name,
                account=writeoff[0].display_name,
                user=self.env.user.name,
            )
        elif currency.compare_amounts(difference, 0) > 0 and due:
            body = self.env._(
                "Overpaid by %(amount)s %(currency)s: kept as the customer's credit "
                "(confirmed by %(user)s).",
                amount=difference,
                currency=currency.name,
                user=self.env.user.name,
            )
        else:
            body = self.env._("Confirmed by %s.", self.env.user.name)
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _settle_order(self, order):
        """All paid: release the order, invoice it and reconcile every payment booked on it.

        Partly paid: the payment waits on the customer's account and the order waits.
        ``order`` comes with elevated rights (invoicing is accounting).
        """
        done = self.sudo().search(
            [("sale_order_id", "=", order.id), ("state", "in", ("confirmed", "auto_confirmed"))]
        )
        paid = self._paid_on_order(order)
        line = self.statement_line_id.sudo()
        total = order.currency_id._convert(
            order.amount_total, line.currency_id, line.company_id, line.date
        )
        if line.currency_id.compare_amounts(paid, total) < 0:
            order.message_post(
                body=self.env._(
                    "Partial payment: %(paid)s of %(total)s received; the order waits for the "
                    "rest.",
                    paid=paid,
                    total=order.amount_total,
                ),
                subtype_xmlid="mail.mt_note",
            )
            self.reason = self.env._(
                "partial payment: %(paid)s of %(total)s", paid=paid, total=order.amount_total
            )
            return
        self._release(order)
        if order.state != "sale" or order.invoice_status != "to invoice":
            return  # not invoiceable yet: the payment stays an open credit of the customer
        invoices = order._create_invoices()
        invoices.action_post()
        credits = done.statement_line_id.move_id.line_ids.filtered(
            lambda aml: aml.account_type == "asset_receivable" and not aml.reconciled
        )
        receivables = invoices.line_ids.filtered(lambda aml: aml.account_type == "asset_receivable")
        (credits + receivables).reconcile()

    def _release(self, order):
        if hasattr(order, "action_shop_payment_received"):
            order.action_shop_payment_received()
