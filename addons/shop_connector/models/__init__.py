from . import sale_order, shop_backend, shop_order_import
from . import account_bank_statement_line, shop_payer_mapping, shop_payment_account
from . import shop_payment_match
from . import product_template, shop_backend_branding, shop_sync_job, stock_picking
from . import crm_shop_case, product_product, product_template_bulky, res_partner
from . import sale_order_import, shop_carrier_map, shop_payment_method_map
