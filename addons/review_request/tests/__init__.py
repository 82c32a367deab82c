from . import (
    test_i18n,
    test_review_optout,
    test_review_reply,
    test_review_request,
    test_review_routing,
    test_review_send,
    test_tour_review,
)
