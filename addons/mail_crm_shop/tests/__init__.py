from . import (
    test_case,
    test_case_assignment,
    test_case_customer,
    test_case_follow_up,
    test_case_lock,
    test_case_sla,
    test_case_text_block,
    test_mail_ingest,
    test_mail_routing,
)
