from . import test_review_request
