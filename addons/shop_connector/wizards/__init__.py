from . import shop_payment_import_wizard
