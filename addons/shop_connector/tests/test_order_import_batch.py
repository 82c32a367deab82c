import json

from odoo.tests import tagged

from ..models.shop_order_import_batch import OrderImportBatch
from .common import ShopConnectorCase, clean_shopify_payload

LATER = "2024-07-02T09:00:00+02:00"


def _other_customer(number):
    """The clean sample as another customer's order ``number`` (no duplicate of the first)."""
    email = f"kunde{number}@example.de"
    payload = clean_shopify_payload(id=number, name=f"#{number}", email=email)
    payload["customer"] = dict(payload["customer"], id=number, email=email)
    return payload


@tagged("post_install", "-at_install")
class TestOrderImportBatch(ShopConnectorCase):
    """The processing cron resolves the lookups its orders share once per batch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_shopify_backend()
        cls.products = cls._create_sample_products()

    def _sale_orders(self):
        return self.env["sale.order"].search(
            [("shop_backend_id", "=", self.backend.id)], order="id"
        )

    def _mail_triggers(self):
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])

    def test_orders_of_one_batch_get_the_same_products_and_taxes_as_alone(self):
        self._import(self.backend, [([clean_shopify_payload(), _other_customer(7001)], None)])
        triggers = self._mail_triggers()
        self._process()
        self.assertEqual(set(self._imports(self.backend).mapped("state")), {"done"})
        first, second = self._sale_orders()
        lines = first.order_line.filtered("product_id")
        self.assertEqual(lines.product_id, second.order_line.filtered("product_id").product_id)
        self.assertEqual(lines.product_id & self.products, self.products, "found by SKU")
        for line in first.order_line.filtered(lambda x: x.product_id in self.products):
            tax = line.tax_ids
            self.assertEqual(len(tax), 1)
            alone = first._shop_tax(tax.amount, tax.price_include, first.company_id)
            self.assertEqual(tax, alone, "the tax a search without the batch finds")
        self.assertTrue(first.shop_received_mail_sent and second.shop_received_mail_sent)
        self.assertEqual(self._mail_triggers(), triggers + 1, "the mail queue: once a batch")

    def test_unknown_sku_is_searched_again_and_listed_as_unknown(self):
        payload = _other_customer(7002)
        payload["line_items"][0]["sku"] = "NEW-IN-SHOP"
        self._import(self.backend, [([payload], None)])
        self._process()
        order = self._sale_orders()
        self.assertIn("NEW-IN-SHOP", " ".join(order.order_line.mapped("name")))
        self.assertEqual(order.shop_release_state, "exception", "held for a person")
        self.assertEqual(order.state, "draft")

    def test_batch_answers_only_what_it_found(self):
        batch = OrderImportBatch()
        company = self.env.company.id
        batch.products[(company, "sku", "BECHER-01")] = self.products[1].id
        known = self._map(clean_shopify_payload(id=7003, line_items=[]))
        self.assertEqual(batch.find_products(known, company), {}, "no lines: nothing to find")
        both = self._map(clean_shopify_payload())
        self.assertIsNone(batch.find_products(both, company), "a SKU it did not find: ask again")
        batch.products[(company, "sku", "TS-100-BLK-M")] = self.products[0].id
        self.assertEqual(
            batch.find_products(both, company), {0: self.products[0].id, 1: self.products[1].id}
        )
        self.assertIsNone(batch.find_tax(7, True, company))

    def _map(self, payload):
        record = self._create_order_import(
            self.backend, external_id=str(payload["id"]), payload=json.dumps(payload)
        )
        return record._map_payload()

    def test_failed_order_fixed_by_the_shop_closes_its_activity_in_a_batch(self):
        self._import(self.backend, [([clean_shopify_payload(created_at=None)], None)])
        record = self._imports(self.backend)
        self.assertEqual(record.state, "failed")
        self.assertTrue(record.activity_ids, "a person is told")
        self._import(self.backend, [([clean_shopify_payload(updated_at=LATER)], None)])
        self.assertEqual(record.state, "pending")
        self._process()
        self.assertEqual(record.state, "done")
        self.assertFalse(record.activity_ids, "done: nothing left to do for a person")
