from . import crm_shop_case, crm_shop_mailbox, crm_shop_queue
