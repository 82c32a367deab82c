from . import (
    crm_shop_case,
    product_template,
    shipping_exchange_profile,
    shipping_exchange_record,
    shipping_exchange_record_inbound,
    shipping_exchange_record_intake,
    shipping_exchange_rule,
    stock_move,
    stock_move_reservation,
    stock_picking,
    stock_picking_cod,
    stock_picking_delivery,
)
