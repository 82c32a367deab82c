from . import (
    crm_shop_case,
    crm_team,
    link_tracker,
    mail_mail,
    res_partner,
    review_mail_block,
    review_platform,
    review_request,
    review_request_cron,
    review_request_mail,
    review_rule,
    stock_picking,
)
