from . import (
    test_carrier_mapping,
    test_i18n,
    test_order_exceptions,
    test_order_flow,
    test_order_import,
    test_order_mapping,
    test_payment_confirm,
    test_payment_import,
    test_payment_matching,
    test_sync_jobs,
)
