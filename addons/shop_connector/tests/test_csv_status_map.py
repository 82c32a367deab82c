import base64
import json

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from ..adapters.shops.files import YATEGO_MAPPING
from .common import ShopConnectorCase

# a shop's own export with its own status words
STATUS_CSV = (
    "Bestellnr|Datum|Status|Mail|Kunde|Strasse|PLZ|Ort|Land|Artikel|Menge|Preis|Summe\n"
    "S-1|2024-07-01 10:15|Bezahlt|anna@example.com|Anna Beispiel|Hauptstr. 1|10115|Berlin|DE"
    "|TS-100-BLK-M|2|19.90|39.80\n"
    "S-2|2024-07-01 11:00|{second}|ben@example.com|Ben Muster|Ring 2|80331|München|DE"
    "|BECHER-01|1|12.50|12.50\n"
)
SHOP_STATUSES = (("BEZAHLT", "paid"), ("Storno", "cancelled"))
STATUS_COLUMNS = {
    "external_id": "Bestellnr",
    "created_at": "Datum",
    "status": "Status",
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
}


@tagged("post_install", "-at_install")
class TestCsvStatusMap(ShopConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls._create_sample_products()

    def _csv_backend(self, second="Storno", statuses=SHOP_STATUSES):
        csv = STATUS_CSV.format(second=second)
        return self.env["shop.backend"].create(
            {
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
                    for key, column in STATUS_COLUMNS.items()
                ],
                "csv_status_map_ids": [
                    (0, 0, {"shop_value": value, "status": status}) for value, status in statuses
                ],
            }
        )

    def _statuses(self, backend):
        imports = self.env["shop.order.import"].search([("backend_id", "=", backend.id)])
        mapped = {r.external_id: backend._map_csv_payload(json.loads(r.payload)) for r in imports}
        return {ref: (order.status, order.is_paid) for ref, order in mapped.items()}

    def test_a_yatego_shop_starts_with_yategos_statuses(self):
        backend = self._create_backend(name="Yatego", backend_type="yatego")
        lines = backend.csv_status_map_ids
        self.assertEqual(
            {line.shop_value: line.status for line in lines}, dict(YATEGO_MAPPING.status_map)
        )
        self.assertEqual(backend._get_csv_mapping().status_map["Bezahlt"], "paid")
        # the merchant's own words replace them; the button restores Yatego's
        lines[0].unlink()
        backend.action_csv_yatego_statuses()
        self.assertEqual(len(backend.csv_status_map_ids), len(YATEGO_MAPPING.status_map))
        generic = self._create_backend(name="Generic", backend_type="generic")
        self.assertFalse(generic.csv_status_map_ids, "other shops start empty")

    def test_existing_yatego_shops_are_filled_on_update(self):
        backend = self._create_backend(name="Yatego", backend_type="yatego", active=False)
        backend.csv_status_map_ids.unlink()
        self.env["shop.backend"]._csv_prefill_yatego_statuses()
        self.assertEqual(len(backend.csv_status_map_ids), len(YATEGO_MAPPING.status_map))

    def test_the_file_is_read_with_the_shops_statuses(self):
        backend = self._csv_backend()
        backend.action_csv_import_sample()
        self.assertEqual(
            self._statuses(backend), {"S-1": ("paid", True), "S-2": ("cancelled", False)}
        )

    def test_an_unknown_status_refuses_the_file_until_it_is_mapped(self):
        backend = self._csv_backend(second="Zurückgestellt")
        with self.assertRaisesRegex(UserError, "unknown order status 'Zurückgestellt'"):
            backend.action_csv_import_sample()
        self.assertFalse(self.env["shop.order.import"].search([("backend_id", "=", backend.id)]))

        backend.csv_status_map_ids = [(0, 0, {"shop_value": "Zurückgestellt", "status": "pending"})]
        backend.action_csv_import_sample()
        self.assertEqual(
            self._statuses(backend), {"S-1": ("paid", True), "S-2": ("pending", False)}
        )

    def test_a_stored_order_whose_status_is_no_longer_mapped_fails_visibly(self):
        backend = self._csv_backend()
        backend.action_csv_import_sample()
        backend.csv_status_map_ids.filtered(lambda line: line.shop_value == "Storno").unlink()
        self._process()
        record = self.env["shop.order.import"].search(
            [("backend_id", "=", backend.id), ("external_id", "=", "S-2")]
        )
        self.assertEqual(record.state, "failed")
        self.assertIn("unknown order status 'Storno'", record.last_error)

        backend.csv_status_map_ids = [(0, 0, {"shop_value": "storno", "status": "cancelled"})]
        record.action_retry()
        self._process()
        self.assertEqual(record.state, "done", record.last_error)
        self.assertFalse(record.sale_order_id, "cancelled before it was imported: no order")

    def test_a_value_mapped_twice_is_refused(self):
        backend = self._csv_backend()
        with self.assertRaisesRegex(ValidationError, "bezahlt is mapped twice"):
            backend.csv_status_map_ids = [(0, 0, {"shop_value": " bezahlt ", "status": "shipped"})]

    def test_a_blank_value_is_refused(self):
        backend = self._csv_backend()
        with self.assertRaisesRegex(ValidationError, "no value from the file"):
            backend.csv_status_map_ids = [(0, 0, {"shop_value": "  ", "status": "open"})]

    def test_the_statuses_are_edited_on_the_shop_form(self):
        backend = self._create_backend(name="Yatego", backend_type="yatego")
        with Form(backend) as form:
            with form.csv_status_map_ids.new() as line:
                line.shop_value = "Zurückgestellt"
                line.status = "pending"
            with form.csv_status_map_ids.edit(0) as line:
                line.status = "pending"
        first = backend.csv_status_map_ids[0]
        self.assertEqual((first.shop_value, first.status), ("neu", "pending"))
        self.assertEqual(backend._csv_status_map()["zurückgestellt"], "pending")
