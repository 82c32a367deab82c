from . import (
    crm_shop_case,
    crm_shop_folder,
    crm_shop_folder_state,
    crm_shop_inbound_mail,
    crm_shop_mailbox,
    crm_shop_phone_note,
    crm_shop_queue,
    crm_shop_sent_mail,
    crm_shop_text_block,
    stock_picking,
)
