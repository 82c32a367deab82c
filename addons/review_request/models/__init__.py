from . import review_platform, review_request
