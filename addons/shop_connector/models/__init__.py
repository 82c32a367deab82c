from . import sale_order, shop_backend, shop_order_import
