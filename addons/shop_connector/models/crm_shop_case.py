from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import plaintext2html

from odoo.addons.mail_crm_shop.models.crm_shop_case import CLOSED_STATES

SHOP_EXCEPTION_CODES = [
    ("customer_note", "Customer comment"),
    ("packstation_bulky", "Bulky product to a Packstation"),
    ("packstation_post_number", "Packstation without Postnummer"),
    ("unknown_product", "Unknown product"),
    ("totals_mismatch", "Totals do not match"),
    ("possible_duplicate", "Possible duplicate"),
    ("invalid_address", "Invalid address"),
    ("order_changed", "Changed after confirmation"),
    ("cancelled_after_shipping", "Cancelled after shipping"),
]
URGENT_CODES = ("cancelled_after_shipping", "order_changed")


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"

    shop_order_import_id = fields.Many2one(
        "shop.order.import", string="Imported order", readonly=True, index="btree_not_null"
    )
    shop_backend_id = fields.Many2one("shop.backend", string="Shop", readonly=True)
    shop_exception_code = fields.Selection(
        SHOP_EXCEPTION_CODES, string="Order exception", readonly=True, index="btree_not_null"
    )

    def write(self, vals):
        resolving = self.browse()
        if vals.get("state") == "done":
            # an agent without sales rights closes the case; the order resumes on its own
            resolving = self.sudo().filtered(lambda c: c.state != "done" and c._shop_holds_order())
        result = super().write(vals)
        if resolving:
            resolving._shop_resume_orders()
        return result

    def _shop_holds_order(self):
        """Whether this case holds its order: an import exception, or the order's release
        exception case (``sale.order.shop_case_id``)."""
        self.ensure_one()
        order = self.sale_order_id
        if not order:
            return False
        if self.shop_exception_code:
            return True
        return "shop_case_id" in order._fields and order.shop_case_id == self

    @api.model
    def _order_reference_fields(self):
        """A customer quotes the shop's order number too ("Ihre Bestellung #100234")."""
        return (*super()._order_reference_fields(), "shop_external_ref")

    def _shop_resume_orders(self):
        """Resume the orders of these resolved cases that no other open case holds."""
        orders = self.sale_order_id
        open_cases = self.search(
            Domain("sale_order_id", "in", orders.ids)
            & Domain("state", "not in", list(CLOSED_STATES))
        )
        still_held = open_cases.filtered(lambda c: c._shop_holds_order()).sale_order_id
        (orders - still_held)._shop_exceptions_resolved()

    @api.model
    def _shop_open_exception_cases(self, sale_order, record, exceptions):
        """One case per order and exception code (reasons of one code are joined); a code
        that already has a case for this order gets none again."""
        messages = {}
        for exception in exceptions:
            messages.setdefault(exception.code, []).append(exception.message)
        existing = self.with_context(active_test=False).search(
            Domain("sale_order_id", "=", sale_order.id) & Domain("shop_exception_code", "!=", False)
        )
        codes = [code for code in messages if code not in existing.mapped("shop_exception_code")]
        if not codes:
            return self.browse()
        backend = record.backend_id
        labels = dict(self._fields["shop_exception_code"]._description_selection(self.env))
        queue = backend._get_exception_queue()
        return self.create(
            [
                {
                    "name": self.env._(
                        "%(order)s: %(reason)s", order=sale_order.name, reason=labels[code]
                    ),
                    "description": plaintext2html("\n".join(messages[code])),
                    "queue_id": queue.id,
                    "partner_id": sale_order.partner_id.id,
                    "company_id": sale_order.company_id.id,
                    "sale_order_id": sale_order.id,
                    "shop_order_import_id": record.id,
                    "shop_backend_id": backend.id,
                    "shop_exception_code": code,
                    "priority": "1" if code in URGENT_CODES else "0",
                }
                for code in codes
            ]
        )
