from . import test_order_import, test_order_mapping, test_order_exceptions
from . import test_order_flow, test_sync_jobs
from . import test_payment_confirm, test_payment_import, test_payment_matching
