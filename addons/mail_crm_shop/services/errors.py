"""Error kinds shared by every adapter and service of the shop back office.

Adapters turn library errors into one of these at their boundary; the Odoo glue decides
from the kind whether a record is retried later or handed to a person.
"""


class BackendError(Exception):
    """Base of every error an adapter or service raises on purpose."""


class TransientError(BackendError):
    """Worth retrying later: timeouts, 429/5xx, a dropped connection.

    ``retry_after``: the seconds the other side asked to wait before the next attempt
    (its ``Retry-After``), or None; a scheduled retry is never earlier than that.
    """

    def __init__(self, *args, retry_after: float | None = None):
        super().__init__(*args)
        self.retry_after = retry_after


class PermanentError(BackendError):
    """Retrying will not help: bad data, a schema violation, a refused reference."""
