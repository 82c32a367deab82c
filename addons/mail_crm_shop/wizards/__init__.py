from . import crm_shop_archive_export, crm_shop_case_reply, crm_shop_search, mail_compose_message
