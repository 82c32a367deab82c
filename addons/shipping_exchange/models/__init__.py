from . import shipping_exchange_profile, shipping_exchange_record, stock_picking
