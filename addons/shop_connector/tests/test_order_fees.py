import json

from odoo.tests import tagged

from ..adapters.shops.base import map_each
from ..adapters.shops.gambio import map_gambio_order
from ..services.orders import OrderPage
from .common import DATA, ShopConnectorCase

# tests/data/gambio_order_fees.json: Gambio's documented order format; its totals are
# 40.25 lines + 5.90 shipping + 6.50 COD fee + 1.50 payment fee - 2.00 coupon
# - 5.00 voucher = 47.15, all gross at 20 % VAT (7.86 included)
SHOP_TOTAL = 47.15
SHOP_TAX = 7.86


class FakeGambioAdapter:
    """One page of Gambio order payloads, mapped by the real Gambio mapping."""

    def __init__(self, payloads):
        self.payloads = payloads

    def fetch_orders(self, cursor=None):
        orders, unmapped = map_each(map_gambio_order, self.payloads)
        yield OrderPage(orders, None, unmapped=unmapped)


@tagged("post_install", "-at_install")
class TestOrderFees(ShopConnectorCase):
    """COD fee, payment fee and voucher of an imported order become taxed order lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend(
            name="Gambio AT", backend_type="gambio", api_url="https://shop.example.at"
        )
        cls.grinder = cls._create_product(name="Kaffeemühle Holz", default_code="KM-HOLZ")
        cls.filters = cls._create_product(name="Filtertüten 100 Stück", default_code="FT-100")
        cls.payload = json.loads((DATA / "gambio_order_fees.json").read_text(encoding="utf-8"))

    def _import_and_process(self, payload):
        self._patch_adapter(FakeGambioAdapter([payload]))
        self.backend.next_sync_date = False
        self._run_cron("shop_connector.ir_cron_import")
        self._process()
        record = self._imports(self.backend)
        self.assertEqual(len(record), 1)
        self.assertEqual(record.state, "done", record.last_error)
        return record.sale_order_id

    def test_fee_and_voucher_lines_carry_the_order_rate_and_add_up_to_the_shop_total(self):
        sale_order = self._import_and_process(self.payload)
        lines = sale_order.order_line.filtered(lambda line: not line.display_type)
        by_product = {line.product_id: line for line in lines}
        self.assertEqual(len(by_product), len(lines), "one line per product")

        def ref(xmlid):
            return self.env.ref(f"shop_connector.{xmlid}")

        expected = {
            self.grinder: (1, 29.75),
            self.filters: (3, 3.50),
            ref("product_shop_shipping"): (1, 5.90),
            ref("product_shop_cod_fee"): (1, 6.50),
            ref("product_shop_fee"): (1, 1.50),
            ref("product_shop_discount"): (1, -2.00),
            ref("product_shop_voucher"): (1, -5.00),
        }
        self.assertEqual(
            {
                product: (line.product_uom_qty, line.price_unit)
                for product, line in by_product.items()
            },
            expected,
        )
        # every line, fees and voucher included, carries the order's 20 % VAT, gross
        tax = lines.tax_ids
        self.assertEqual(len(tax), 1, "one tax for all lines")
        self.assertEqual((tax.amount, tax.amount_type, tax.price_include), (20, "percent", True))
        for line in lines:
            self.assertEqual(line.tax_ids, tax, line.product_id.display_name)
        self.assertEqual(by_product[ref("product_shop_cod_fee")].price_total, 6.50)
        self.assertEqual(by_product[ref("product_shop_voucher")].price_total, -5.00)
        self.assertAlmostEqual(by_product[ref("product_shop_fee")].price_subtotal, 1.25, places=2)

        currency = sale_order.currency_id
        self.assertEqual(currency.name, "EUR")
        self.assertTrue(currency.is_zero(sale_order.amount_total - SHOP_TOTAL))
        self.assertTrue(currency.is_zero(sale_order.amount_tax - SHOP_TAX))
        self.assertFalse(
            self.env["crm.shop.case"].search([("sale_order_id", "=", sale_order.id)]),
            "the shop's total is met: nobody needs to look at the order",
        )

    def test_a_total_the_fees_do_not_explain_holds_the_order(self):
        payload = json.loads(json.dumps(self.payload))
        for total in payload["totals"]:
            if total["class"] == "ot_payment":
                total["value"] = 0.0  # the fee line is lost; the shop's total still has it
        sale_order = self._import_and_process(payload)
        self.assertFalse(sale_order.order_line.filtered(lambda line: line.price_unit == 1.50))
        cases = self.env["crm.shop.case"].search([("sale_order_id", "=", sale_order.id)])
        self.assertEqual(cases.mapped("shop_exception_code"), ["totals_mismatch"])
