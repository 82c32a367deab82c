from odoo.tests import new_test_user, tagged

from .common_flow import ShopOrderFlowCase


@tagged("post_install", "-at_install")
class TestOrderStockShortfall(ShopOrderFlowCase):
    """An order the warehouse cannot reserve in full becomes a case until stock arrives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.queue.write(
            {"sla_first_response_hours": 4, "sla_resolution_hours": 24, "sla_calendar_hours": True}
        )
        cls.shop.exception_queue_id = cls.queue
        cls.scarce = cls._create_storable(qty=1, name="Rare vase", default_code="RARE-1")

    def test_shortfall_opens_a_case_and_resumes_once_stock_arrived(self):
        order = self._create_shop_order(self.scarce, "paypal", qty=3)
        order._shop_start_processing()
        self.assertEqual(order.state, "sale", "the delivery exists and waits for stock")
        self.assertEqual(order.shop_release_state, "exception")
        case = order.shop_case_id
        self.assertTrue(case)
        self.assertEqual(case.sale_order_id, order)
        self.assertEqual(case.queue_id, self.queue)
        self.assertTrue(case.sla_resolution_deadline)
        self.assertIn("stock shortfall", case.name)
        self.assertIn("Rare vase", case.description)
        self.assertIn("3 Units ordered, only 1 Units in stock", case.description)
        picking = order.picking_ids
        self.assertEqual(picking.move_ids.quantity, 1, "the one piece in stock is reserved")

        # the goods arrive, the agent closes the case: the order is reserved and released
        self.env["stock.quant"]._update_available_quantity(
            self.scarce, self.warehouse.lot_stock_id, 5
        )
        agent = new_test_user(self.env, login="agent", groups="mail_crm_shop.group_user")
        self.queue.member_ids = agent
        case.with_user(agent).write({"state": "done"})
        self.assertEqual(order.shop_release_state, "released")
        self.assertEqual(picking.move_ids.state, "assigned")
        self.assertEqual(picking.move_ids.quantity, 3)
        self._ship(picking)
        self.assertEqual(order.shop_release_state, "done")
        self.assertEqual(order.invoice_ids.state, "posted")
        self.assertEqual(len(order.picking_ids), 1)

    def test_order_in_stock_opens_no_case(self):
        product = self._create_storable(qty=5, name="Common cup", default_code="CUP-1")
        order = self._create_shop_order(product, "paypal", qty=5)
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "released")
        self.assertFalse(order.shop_case_id)
        self.assertEqual(order.picking_ids.state, "assigned")

    def test_products_not_kept_in_stock_never_fall_short(self):
        service = self.env["product.product"].create(
            {"name": "Gift wrap", "type": "consu", "list_price": 2.0}
        )
        order = self._create_shop_order(service, "paypal", qty=50)
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "released")
        self.assertFalse(order.shop_case_id)

    def test_manual_reservation_is_no_shortfall(self):
        self.warehouse.out_type_id.reservation_method = "manual"
        order = self._create_shop_order(self.scarce, "paypal", qty=3)
        order._shop_start_processing()
        self.assertEqual(order.shop_release_state, "released")
        self.assertFalse(order.shop_case_id)
