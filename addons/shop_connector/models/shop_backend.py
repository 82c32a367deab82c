from odoo import fields, models

BACKEND_TYPES = [
    ("amazon", "Amazon (Selling Partner API)"),
    ("ebay", "eBay (Sell Fulfillment API)"),
    ("shopify", "Shopify (Admin API)"),
    ("woocommerce", "WooCommerce (REST v3)"),
    ("shopware6", "Shopware 6 (Admin API)"),
    ("gambio", "Gambio (REST API)"),
    ("yatego", "Yatego (order CSV)"),
    ("generic", "Generic JSON/CSV import"),
]


class ShopBackend(models.Model):
    _name = "shop.backend"
    _description = "Shop or marketplace account"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    backend_type = fields.Selection(BACKEND_TYPES, string="Platform", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one("crm.team", string="Sales team")
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True)
    pricelist_id = fields.Many2one("product.pricelist", check_company=True)
    api_url = fields.Char(string="API URL")
    api_key = fields.Char(string="API key / client id", groups="shop_connector.group_manager")
    api_secret = fields.Char(string="API secret", groups="shop_connector.group_manager", copy=False)
    import_interval_minutes = fields.Integer(default=15)
    sync_cursor = fields.Char(readonly=True, copy=False, help="Where the next import continues.")
    state = fields.Selection(
        [("draft", "Not synced yet"), ("ok", "Connected"), ("error", "Error")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    last_sync_date = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    order_import_ids = fields.One2many("shop.order.import", "backend_id")
    order_import_count = fields.Integer(compute="_compute_order_import_count")

    def _compute_order_import_count(self):
        counts = dict(
            self.env["shop.order.import"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.order_import_count = counts.get(backend, 0)

    def action_view_order_imports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "shop_connector.shop_order_import_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action
