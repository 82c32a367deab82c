from . import crm_shop_case_reply
