from . import (
    test_confirmation,
    test_confirmation_intake,
    test_exception_queue,
    test_exchange_record,
    test_faults_exchange,
    test_i18n,
    test_portal_and_profile,
    test_portal_page,
    test_routing,
    test_routing_at_once,
    test_send,
    test_watchdog,
)
