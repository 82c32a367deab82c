"""The customer's ERP records beside a case, and the values text blocks may use."""

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools.misc import format_amount

from ..services.placeholders import PlaceholderContext


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    sale_order_id = fields.Many2one(
        "sale.order",
        string="Order",
        index="btree_not_null",
        ondelete="set null",
        tracking=True,
        help="The order this case is about (set by the shop connector, review requests, ...).",
    )
    sale_order_ids = fields.Many2many(
        "sale.order", compute="_compute_sale_order_ids", groups="sales_team.group_sale_salesman"
    )
    invoice_ids = fields.Many2many(
        "account.move", compute="_compute_invoice_ids", groups="account.group_account_invoice"
    )
    picking_ids = fields.Many2many(
        "stock.picking", compute="_compute_picking_ids", groups="stock.group_stock_user"
    )
    previous_case_ids = fields.Many2many("crm.shop.case", compute="_compute_previous_case_ids")

    def _customer_records(self, model, domain=None, limit=20):
        """The customer's records of ``model`` the current user may read, newest first."""
        self.ensure_one()
        commercial = self.partner_id.commercial_partner_id
        Model = self.env[model]
        if not commercial or not Model.has_access("read"):
            return Model
        customer = Domain("partner_id", "child_of", commercial.id) & Domain(domain or [])
        return Model.search(customer, limit=limit, order="id desc")

    @api.depends("partner_id")
    def _compute_sale_order_ids(self):
        for case in self:
            case.sale_order_ids = case._customer_records("sale.order")

    @api.depends("partner_id")
    def _compute_invoice_ids(self):
        invoices = [("move_type", "in", ("out_invoice", "out_refund"))]
        for case in self:
            case.invoice_ids = case._customer_records("account.move", invoices)

    @api.depends("partner_id")
    def _compute_picking_ids(self):
        for case in self:
            case.picking_ids = case._customer_records(
                "stock.picking", [("picking_type_code", "=", "outgoing")]
            )

    @api.depends("partner_id")
    def _compute_previous_case_ids(self):
        for case in self:
            others = [("id", "!=", case._origin.id or 0)]
            case.previous_case_ids = case._customer_records("crm.shop.case", others)

    def _get_placeholder_context(self):
        """Build the values text blocks may use from the customer's ERP records."""
        self.ensure_one()
        commercial = self.partner_id.commercial_partner_id
        customer = Domain("partner_id", "child_of", commercial.id or 0)
        order = (
            self.env["sale.order"]
            .sudo()
            .search(customer, order="date_order desc, id desc", limit=1)
        )
        states = dict(order._fields["state"]._description_selection(self.env))
        return PlaceholderContext(
            customer_name=self.partner_id.name or self.email_from or "",
            last_order_number=order.name or "",
            last_order_state=states.get(order.state, "") if order else "",
            tracking_link=self._placeholder_tracking_link(customer),
            open_invoice_amount=self._placeholder_open_amount(customer),
            case_number=self.number or "",
            agent_name=self.env.user.name or "",
        )

    def _placeholder_tracking_link(self, customer):
        """The tracking link of the customer's last shipped delivery that has one."""
        pickings = (
            self.env["stock.picking"]
            .sudo()
            .search(
                customer
                & Domain("picking_type_code", "=", "outgoing")
                & Domain("state", "=", "done"),
                order="date_done desc, id desc",
            )
        )
        return next((p.carrier_tracking_url for p in pickings if p.carrier_tracking_url), "")

    def _placeholder_open_amount(self, customer):
        """What the customer's posted invoices still owe, in the currency of the first."""
        invoices = (
            self.env["account.move"]
            .sudo()
            .search(
                customer
                & Domain("move_type", "=", "out_invoice")
                & Domain("state", "=", "posted")
                & Domain("payment_state", "in", ("not_paid", "partial"))
            )
        )
        if not invoices:
            return ""
        currency = invoices[0].currency_id
        total = sum(
            invoices.filtered(lambda m: m.currency_id == currency).mapped("amount_residual")
        )
        return format_amount(self.env, total, currency)

    def action_reply_with_text_block(self):
        self.ensure_one()
        self._acquire_lock()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply with text block"),
            "res_model": "crm.shop.case.reply",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_id": self.id},
        }
