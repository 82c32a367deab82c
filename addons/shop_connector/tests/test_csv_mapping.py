import base64
import json
import logging

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..adapters.shops.files import YATEGO_COLUMNS, FileImportAdapter, FileImportSettings
from .common import ShopConnectorCase

IMPORT_LOGGER = "odoo.addons.shop_connector.models.shop_order_import"

# a shop's own export: pipe separated, English decimals, ISO-like dates, own headers
CUSTOM_CSV = (
    "Bestellnr|Datum|Mail|Kunde|Strasse|PLZ|Ort|Land|Artikel|Menge|Preis|Summe|Zahlart\n"
    "A-1|2024-07-01 10:15|anna@example.com|Anna Beispiel|Hauptstr. 1|10115|Berlin|DE"
    "|TS-100-BLK-M|2|19.90|39.80|paypal\n"
    "A-2|2024-07-01 11:00|ben@example.com|Ben Muster|Ring 2|80331|München|DE"
    "|BECHER-01|1|12.50|12.50|paypal\n"
)
CUSTOM_COLUMNS = {
    "external_id": "Bestellnr",
    "created_at": "Datum",
    "email": "Mail",
    "billing_name": "Kunde",
    "billing_street": "Strasse",
    "billing_zip": "PLZ",
    "billing_city": "Ort",
    "billing_country_code": "Land",
    "line_sku": "Artikel",
    "line_quantity": "Menge",
    "line_unit_price": "Preis",
    "total": "Summe",
    "payment_method": "Zahlart",
}


# a generic shop's order file in our JSON format (also read from folders in test_order_folder)
JSON_FILE = {
    "orders": [
        {
            "external_id": "WEB-7",
            "number": "7",
            "created_at": "2024-07-06T09:00:00Z",
            "status": "paid",
            "payment_method": "paypal",
            "currency": "EUR",
            "total": "24.90",
            "customer": {"email": "jan@example.de", "name": "Jan Muster"},
            "billing": {
                "name": "Jan Muster",
                "street": "Ring 2",
                "zip": "80331",
                "city": "München",
                "country_code": "DE",
            },
            "lines": [
                {"external_id": "1", "sku": "TS-100-BLK-M", "quantity": "1", "unit_price": "24.90"}
            ],
        }
    ]
}


@tagged("post_install", "-at_install")
class TestCsvMapping(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls._create_sample_products()

    def _csv_backend(self, columns=None, csv=CUSTOM_CSV, **overrides):
        vals = {
            "name": "Hofladen CSV",
            "backend_type": "generic",
            "file_format": "csv",
            "api_url": "https://shop.example.com/orders.csv",
            "pricelist_id": self._create_eur_pricelist().id,
            "exception_queue_id": self.queue.id,
            "csv_delimiter": "pipe",
            "csv_decimal_separator": ".",
            "csv_date_format": "%Y-%m-%d %H:%M",
            "csv_sample_file": base64.b64encode(csv.encode()),
            "csv_sample_filename": "orders.csv",
            "csv_column_map_ids": [
                (0, 0, {"field_key": key, "column": column})
                for key, column in (columns or CUSTOM_COLUMNS).items()
            ],
            **overrides,
        }
        return self.env["shop.backend"].create(vals)

    def _imports(self, backend):
        return self.env["shop.order.import"].search([("backend_id", "=", backend.id)])

    def test_uploaded_file_is_imported_with_the_custom_mapping(self):
        backend = self._csv_backend()
        backend.action_csv_import_sample()
        imports = self._imports(backend)
        self.assertEqual(sorted(imports.mapped("external_id")), ["A-1", "A-2"])
        self._run_cron("shop_connector.ir_cron_process")
        self.assertEqual(set(imports.mapped("state")), {"done"}, imports.mapped("last_error"))
        order = imports.filtered(lambda r: r.external_id == "A-1").sale_order_id
        self.assertEqual(order.partner_id.email, "anna@example.com")
        self.assertEqual(order.partner_shipping_id.city, "Berlin")
        line = order.order_line.filtered(lambda li: li.product_id.default_code == "TS-100-BLK-M")
        self.assertEqual((line.product_uom_qty, line.price_unit), (2.0, 19.90))
        self.assertEqual(order.amount_total, 39.80)
        self.assertEqual(order.state, "sale", "PayPal orders are released at once")
        # the same file again is the same orders, not new ones
        backend.action_csv_import_sample()
        self._run_cron("shop_connector.ir_cron_process")
        self.assertEqual(len(self._imports(backend)), 2)
        self.assertEqual(
            self.env["sale.order"].search_count([("shop_backend_id", "=", backend.id)]), 2
        )

    def _upload_message(self, backend):
        action = backend.action_csv_import_sample()
        self.assertEqual(action["params"]["type"], "success")
        return action["params"]["message"]

    def test_upload_tells_new_changed_and_known_orders_apart(self):
        backend = self._csv_backend()
        self.assertEqual(
            self._upload_message(backend),
            "2 orders read from the file: 2 new and 0 changed ones are queued for import, "
            "0 were imported already.",
        )
        imports = self._imports(backend)
        self._run_cron("shop_connector.ir_cron_process")
        self.assertEqual(set(imports.mapped("state")), {"done"}, imports.mapped("last_error"))
        # the shop's next export: A-1 changed the next day (three shirts), A-2 as before
        changed_csv = CUSTOM_CSV.replace("A-1|2024-07-01", "A-1|2024-07-02").replace(
            "|2|19.90|39.80|", "|3|19.90|59.70|"
        )
        backend.csv_sample_file = base64.b64encode(changed_csv.encode())
        self.assertEqual(
            self._upload_message(backend),
            "2 orders read from the file: 0 new and 1 changed ones are queued for import, "
            "1 were imported already.",
        )
        self.assertEqual(self._imports(backend), imports, "no order twice")
        changed = imports.filtered(lambda r: r.external_id == "A-1")
        self.assertEqual((changed.state, (imports - changed).state), ("pending", "done"))

    def test_order_pushed_while_the_file_is_uploaded_is_kept_once(self):
        """The shop pushes A-2 while the file with A-2 is uploaded: the upload's insert
        hits the unique key; the pushed order counts as imported, the others are stored."""
        backend = self._csv_backend()
        # the push carries another version of A-2 (two mugs) than the file
        pushed_csv = CUSTOM_CSV.replace("|BECHER-01|1|12.50|12.50|", "|BECHER-01|2|12.50|25.00|")
        adapter = FileImportAdapter(
            FileImportSettings(url="", file_format="csv", csv_mapping=backend._get_csv_mapping())
        )
        pushed_orders = [o for o in adapter.parse(pushed_csv.encode()) if o.external_id == "A-2"]
        self.assertEqual(backend._shop_store_pushed_orders(pushed_orders)["stored"], 1)
        pushed = self._imports(backend)
        self.assertEqual(pushed.external_id, "A-2")
        pushed_payload = pushed.payload
        self._hide_stored_meanwhile(pushed)

        # logging.INFO, not "INFO": Odoo gives that name to its level 25
        with self.assertLogs(IMPORT_LOGGER, logging.INFO) as logs:
            message = self._upload_message(backend)
        self.assertIn("Order A-2 of shop", "\n".join(logs.output))
        self.assertEqual(
            message,
            "2 orders read from the file: 1 new and 0 changed ones are queued for import, "
            "1 were imported already.",
            "the pushed order counts as imported, not as new",
        )
        imports = self._imports(backend)
        self.assertEqual(sorted(imports.mapped("external_id")), ["A-1", "A-2"], "A-2 once")
        self.assertIn(pushed, imports)
        self.assertEqual(pushed.payload, pushed_payload, "the pushed row is left as it is")
        self._run_cron("shop_connector.ir_cron_process")
        self.assertEqual(set(imports.mapped("state")), {"done"}, imports.mapped("last_error"))
        self.assertEqual(len(imports.sale_order_id), 2)
        mugs = pushed.sale_order_id.order_line.filtered(
            lambda li: li.product_id.default_code == "BECHER-01"
        )
        self.assertEqual(mugs.product_uom_qty, 2.0, "the pushed version of A-2")

    def test_unmapped_required_field_is_a_clear_error_and_nothing_is_imported(self):
        columns = dict(CUSTOM_COLUMNS)
        del columns["line_quantity"]
        backend = self._csv_backend(columns)
        with self.assertRaisesRegex(UserError, "Article: quantity"):
            backend.action_csv_import_sample()
        with self.assertRaisesRegex(UserError, "lacks required fields"):
            backend._get_shop_adapter()  # nor can it be scheduled
        self.assertFalse(self._imports(backend))

    def test_file_without_a_mapped_column_is_refused_whole(self):
        csv = CUSTOM_CSV.replace("|Menge|", "|Anzahl|")
        backend = self._csv_backend(csv=csv)
        with self.assertRaisesRegex(UserError, "Menge"):
            backend.action_csv_import_sample()
        self.assertFalse(self._imports(backend))

    def test_a_bad_row_refuses_the_whole_file(self):
        csv = CUSTOM_CSV.replace("|12.50|12.50|", "|zwölf|12.50|")
        backend = self._csv_backend(csv=csv)
        with self.assertRaisesRegex(UserError, "Nothing was imported.*row 3"):
            backend.action_csv_import_sample()
        self.assertFalse(self._imports(backend), "no order of the file is half imported")

    def test_preview_shows_the_rows_and_the_mapped_first_row(self):
        backend = self._csv_backend()
        preview = str(backend.csv_preview)
        self.assertIn("Bestellnr", preview)
        self.assertIn("anna@example.com", preview)
        self.assertIn("Article: unit price", preview)
        backend.csv_delimiter = "semicolon"  # wrong delimiter: one column only
        self.assertNotIn("anna@example.com</td><td>", str(backend.csv_preview))
        backend.csv_delimiter = "pipe"
        self.assertEqual(backend.action_csv_check()["params"]["type"], "success")

    def test_preview_and_check_read_the_file_when_the_form_asks_for_sizes(self):
        # the web client reads binaries with bin_size (their size as text) while saving
        backend = self._csv_backend().with_context(bin_size=True)
        backend.invalidate_recordset()
        self.assertIn("anna@example.com", str(backend.csv_preview))
        self.assertEqual(backend.action_csv_check()["params"]["type"], "success")

    def test_yatego_backend_gets_the_documented_columns_and_can_be_scheduled(self):
        backend = self._create_backend(backend_type="yatego", api_url="https://x/export.csv")
        columns = {line.field_key: line.column for line in backend.csv_column_map_ids}
        self.assertEqual(columns, YATEGO_COLUMNS)
        self.assertEqual(backend.csv_decimal_separator, ",")
        adapter = backend._get_shop_adapter()
        self.assertIsInstance(adapter, FileImportAdapter)
        self.assertEqual(adapter.settings.csv_mapping.columns["line_sku"], "Artikelnummer")
        backend.csv_column_map_ids.filtered(lambda li: li.field_key == "total").unlink()
        with self.assertRaisesRegex(UserError, "Order total"):
            backend._get_shop_adapter()

    def test_stored_rows_are_read_with_the_current_mapping(self):
        columns = dict(CUSTOM_COLUMNS, line_sku="Bestellnr")  # wrong: SKU from the order id
        backend = self._csv_backend(columns)
        backend.action_csv_import_sample()
        self._run_cron("shop_connector.ir_cron_process")
        record = self._imports(backend).filtered(lambda r: r.external_id == "A-1")
        cases = self.env["crm.shop.case"].search([("sale_order_id", "=", record.sale_order_id.id)])
        self.assertIn("unknown_product", cases.mapped("shop_exception_code"))
        # the stored rows are read again with the fixed mapping (a retry, a re-import)
        backend.csv_column_map_ids.filtered(
            lambda li: li.field_key == "line_sku"
        ).column = "Artikel"
        order = record._map_payload()
        self.assertEqual([line.sku for line in order.lines], ["TS-100-BLK-M"])

    def test_an_unusable_mapping_fails_the_import_then_a_retry_succeeds(self):
        backend = self._csv_backend()
        backend.action_csv_import_sample()
        backend.csv_column_map_ids.filtered(lambda li: li.field_key == "total").unlink()
        self._run_cron("shop_connector.ir_cron_process")
        imports = self._imports(backend)
        self.assertEqual(set(imports.mapped("state")), {"failed"})
        self.assertIn("Order total", imports[0].last_error)
        self.assertFalse(imports.sale_order_id)
        self.env["shop.csv.column.map"].create(
            {"backend_id": backend.id, "field_key": "total", "column": "Summe"}
        )
        imports.action_retry()
        self._run_cron("shop_connector.ir_cron_process")
        self.assertEqual(set(imports.mapped("state")), {"done"})
        self.assertEqual(len(imports.sale_order_id), 2)

    def test_generic_json_file_is_uploaded_and_imported(self):
        backend = self._csv_backend(
            file_format="json",
            csv_column_map_ids=[],
            csv_sample_file=base64.b64encode(json.dumps(JSON_FILE).encode()),
            csv_sample_filename="orders.json",
        )
        self.assertFalse(backend.csv_preview, "a JSON file has no columns to preview")
        backend.action_csv_import_sample()
        imports = self._imports(backend)
        self.assertEqual(imports.mapped("external_id"), ["WEB-7"])
        self._run_cron("shop_connector.ir_cron_process")
        self.assertEqual(imports.state, "done", imports.last_error)
        self.assertEqual(imports.sale_order_id.partner_id.email, "jan@example.de")
        backend.action_csv_import_sample()
        self.assertEqual(len(self._imports(backend)), 1, "the same file again: the same order")

    def test_broken_json_file_is_refused_whole(self):
        backend = self._csv_backend(
            file_format="json",
            csv_column_map_ids=[],
            csv_sample_file=base64.b64encode(b"{ not json"),
            csv_sample_filename="orders.json",
        )
        with self.assertRaisesRegex(UserError, "cannot be read"):
            backend.action_csv_import_sample()
        self.assertFalse(self._imports(backend))
