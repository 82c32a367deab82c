from . import test_order_import
