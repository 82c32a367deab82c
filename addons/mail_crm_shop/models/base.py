from psycopg2 import errors

from odoo import api, models
from odoo.tools import mute_logger


class Base(models.AbstractModel):
    _inherit = "base"

    @api.private
    def _shop_try_lock_for_update(self):
        """``try_lock_for_update`` for cron loops that run on several workers at once.

        Under REPEATABLE READ, locking a row that another worker changed and committed
        after this transaction's snapshot raises a serialization failure instead of
        skipping the row. That row is the other worker's: skip it like a locked one (a
        later run sees its committed state) and keep the transaction usable.
        """
        try:
            # the refused lock is expected here, not a bad query worth an ERROR line
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                return self.try_lock_for_update()
        except errors.SerializationFailure:
            return self.browse()
