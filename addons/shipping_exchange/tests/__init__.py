from . import test_exchange_record
