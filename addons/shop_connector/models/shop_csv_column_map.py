from odoo import fields, models

from ..services.csv_mapping import CSV_FIELDS

CSV_FIELD_LABELS = {
    "external_id": "Order id",
    "number": "Order number",
    "created_at": "Order date",
    "status": "Status",
    "payment_method": "Payment method",
    "currency": "Currency",
    "total": "Order total",
    "shipping_total": "Shipping costs",
    "discount_total": "Discount",
    "cod_fee": "Cash on delivery fee",
    "shipping_method": "Shipping method",
    "customer_note": "Customer comment",
    "email": "E-mail",
    "customer_name": "Customer name",
    "phone": "Phone",
    "billing_company": "Invoice address: company",
    "billing_name": "Invoice address: name",
    "billing_street": "Invoice address: street",
    "billing_street2": "Invoice address: address line 2",
    "billing_zip": "Invoice address: ZIP",
    "billing_city": "Invoice address: city",
    "billing_country_code": "Invoice address: country",
    "shipping_company": "Delivery address: company",
    "shipping_name": "Delivery address: name",
    "shipping_street": "Delivery address: street",
    "shipping_street2": "Delivery address: address line 2",
    "shipping_zip": "Delivery address: ZIP",
    "shipping_city": "Delivery address: city",
    "shipping_country_code": "Delivery address: country",
    "line_sku": "Article: SKU",
    "line_ean": "Article: EAN",
    "line_name": "Article: name",
    "line_quantity": "Article: quantity",
    "line_unit_price": "Article: unit price",
    "line_tax_rate": "Article: VAT rate",
}
CSV_FIELD_SELECTION = [(key, CSV_FIELD_LABELS[key]) for key in CSV_FIELDS]


class ShopCsvColumnMap(models.Model):
    """Which column of a shop's order CSV file holds which order field."""

    _name = "shop.csv.column.map"
    _description = "Shop CSV column mapping"
    _order = "backend_id, sequence, id"

    backend_id = fields.Many2one("shop.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    field_key = fields.Selection(CSV_FIELD_SELECTION, string="Order field", required=True)
    column = fields.Char(
        string="CSV column",
        required=True,
        help="The column's header in the file, exactly as written there.",
    )

    _field_uniq = models.UniqueIndex(
        "(backend_id, field_key)", "Each order field is read from one column."
    )
