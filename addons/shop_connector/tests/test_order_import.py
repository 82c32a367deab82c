from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ShopConnectorCase


@tagged("post_install", "-at_install")
class TestOrderImport(ShopConnectorCase):
    def test_same_external_order_cannot_be_stored_twice(self):
        backend = self._create_backend()
        self._create_order_import(backend)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._create_order_import(backend)

    def test_same_external_id_on_two_backends_is_two_orders(self):
        first, second = self._create_backend(), self._create_backend(name="Other shop")
        self._create_order_import(first)
        self._create_order_import(second)
        self.assertEqual(first.order_import_count + second.order_import_count, 2)

    def test_retry_puts_failed_import_back_in_the_queue(self):
        record = self._create_order_import(
            self._create_backend(), state="failed", attempt_count=5, last_error="boom"
        )
        record.action_retry()
        self.assertEqual(record.state, "pending")
        done = self._create_order_import(record.backend_id, external_id="2", state="done")
        done.action_retry()
        self.assertEqual(done.state, "done")
