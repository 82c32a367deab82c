{
    "name": "Review Requests",
    "summary": "Review invitations after delivery, built from blocks, routed per product",
    "version": "19.0.1.0.0",
    "category": "Shop Back Office",
    "website": "https://github.com/shop-backoffice/shop-backoffice",
    "author": "Shop Back Office contributors",
    "maintainers": ["shop-backoffice"],
    "license": "LGPL-3",
    "depends": ["mail_crm_shop", "sale", "stock", "link_tracker"],
    "data": [
        "security/review_request_security.xml",
        "security/ir.model.access.csv",
        "views/review_request_menus.xml",
        "views/review_platform_views.xml",
        "views/review_request_views.xml",
    ],
    "demo": ["demo/review_request_demo.xml"],
}
