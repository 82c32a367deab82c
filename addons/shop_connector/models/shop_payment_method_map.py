from odoo import fields, models

METHOD_KINDS = [
    ("prepayment", "Prepayment"),
    ("bank_transfer", "Bank transfer"),
    ("paypal", "PayPal"),
    ("credit_card", "Credit card"),
    ("marketplace_paid", "Paid at the marketplace"),
    ("invoice", "On invoice"),
    ("cod", "Cash on delivery"),
]


class ShopPaymentMethodMap(models.Model):
    """How a shop's payment method code is handled here."""

    _name = "shop.payment.method.map"
    _description = "Shop payment method mapping"
    _order = "backend_id, shop_code"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    shop_code = fields.Char(
        string="Shop payment code", required=True, help="As the shop sends it, e.g. paypal."
    )
    method_kind = fields.Selection(METHOD_KINDS, string="Payment method", required=True)
    payment_term_id = fields.Many2one("account.payment.term", check_company=True)
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Where the payments of this method arrive.",
    )

    _shop_code_uniq = models.UniqueIndex(
        "(backend_id, shop_code)", "Each payment code of a shop is mapped once."
    )
