from psycopg2 import errors

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestLockAcrossWorkers(TransactionCase):
    """Two cron workers on one row: the second skips it instead of crashing."""

    def setUp(self):
        super().setUp()
        self.db = sql_db.db_connect(self.env.cr.dbname)
        with self.db.cursor() as setup:
            setup.execute(
                "INSERT INTO crm_shop_folder (name, complete_name, active, create_date, write_date)"
                " VALUES ('{\"en_US\": \"Lock test\"}', 'Lock test', true, now(), now())"
                " RETURNING id"
            )
            self.folder_id = setup.fetchone()[0]
            setup.commit()
        self.addCleanup(self._drop_folder)

    def _drop_folder(self):
        with self.db.cursor() as cleanup:
            cleanup.execute("DELETE FROM crm_shop_folder WHERE id = %s", [self.folder_id])
            cleanup.commit()

    def test_row_committed_by_another_worker_is_skipped_not_an_error(self):
        worker_a, worker_b = self.db.cursor(), self.db.cursor()
        try:
            # worker A's snapshot is taken (it searched its batch) ...
            worker_a.execute("SELECT id FROM crm_shop_folder WHERE id = %s", [self.folder_id])
            # ... then worker B processes the same row and commits
            worker_b.execute(
                "UPDATE crm_shop_folder SET write_date = now() WHERE id = %s", [self.folder_id]
            )
            worker_b.commit()
            folder = api.Environment(worker_a, SUPERUSER_ID, {})["crm.shop.folder"].browse(
                self.folder_id
            )
            self.assertFalse(folder._shop_try_lock_for_update(), "the row is B's: skipped")
            # A's transaction is still usable after the skipped row
            worker_a.execute("SELECT count(*) FROM crm_shop_folder WHERE id = %s", [self.folder_id])
            self.assertEqual(worker_a.fetchone()[0], 1)
            # the bare lock fails in the same situation: this is the race being guarded
            with mute_logger("odoo.sql_db"), self.assertRaises(errors.SerializationFailure):
                folder.try_lock_for_update()
            worker_a.rollback()
            # with a fresh snapshot (the next record's transaction), the lock is taken
            self.assertEqual(folder._shop_try_lock_for_update(), folder)
        finally:
            worker_a.rollback()
            worker_a.close()
            worker_b.close()
