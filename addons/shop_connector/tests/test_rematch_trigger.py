from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import tagged

from .common import REMATCH, ShopConnectorCase, ShopRematchMixin
from .payment_common import ShopPaymentCase


@tagged("post_install", "-at_install")
class TestRematchTrigger(ShopRematchMixin, ShopPaymentCase, ShopConnectorCase):
    """Invoices are posted one by one: one pending re-match trigger is enough."""

    def setUp(self):
        super().setUp()
        self._triggers().unlink()

    def _triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def _left_by_another_transaction(self, trigger):
        """``trigger`` as a committed transaction that began before this one left it."""
        earlier = self.env.cr.now() - timedelta(minutes=2)
        self.env.cr.execute(
            "UPDATE ir_cron_trigger SET create_date = %s WHERE id = %s", [earlier, trigger.id]
        )
        trigger.invalidate_recordset(["create_date"])

    def test_invoices_posted_one_by_one_add_one_trigger_until_the_cron_ran(self):
        # a few minutes before this transaction's clock, which the cron's run compares
        # its triggers with (the run removes those due at its start)
        with freeze_time(self.env.cr.now() - timedelta(minutes=5)):
            invoices = [self._create_invoice(amount) for amount in (10.0, 20.0, 30.0)]
        self.assertEqual({invoice.state for invoice in invoices}, {"posted"})
        triggers = self._triggers()
        self.assertEqual(len(triggers), 1, "one pending trigger for three invoices")
        self._run_cron(REMATCH)
        self.assertFalse(triggers.exists(), "the run consumed its trigger")
        self._create_invoice(40.0)
        self.assertEqual(len(self._triggers()), 1, "a post after the run asks again")
        self._create_invoice(50.0)
        self.assertEqual(len(self._triggers()), 1)

    def test_a_trigger_due_later_does_not_hold_the_rematch_back(self):
        later = fields.Datetime.now() + timedelta(minutes=30)
        self.cron._trigger(at=later)
        self._create_invoice(10.0)
        self._create_invoice(20.0)
        call_ats = sorted(self._triggers().mapped("call_at"))
        self.assertEqual(len(call_ats), 2, "one due now, the later one left alone")
        self.assertLessEqual(call_ats[0], fields.Datetime.now())
        self.assertEqual(call_ats[1], later)

    def test_a_due_trigger_a_run_may_hold_does_not_hold_the_rematch_back(self):
        # left by another transaction and due: a run under way may have taken it (its
        # removal is committed only when the run ends), so it is still seen here
        due = fields.Datetime.now() - timedelta(seconds=30)
        self._left_by_another_transaction(self.cron._trigger(at=due))
        self._create_invoice(10.0)
        self._create_invoice(20.0)
        call_ats = sorted(self._triggers().mapped("call_at"))
        self.assertEqual(len(call_ats), 2, "one more trigger, for both invoices")
        self.assertEqual(call_ats[0], due)
        self.assertGreater(call_ats[1], due)

    def test_a_trigger_another_transaction_left_for_later_is_enough(self):
        # not due yet: no run can have taken it, it runs after this transaction
        soon = fields.Datetime.now() + timedelta(seconds=30)
        self._left_by_another_transaction(self.cron._trigger(at=soon))
        self._create_invoice(10.0)
        self.assertEqual(self._triggers().mapped("call_at"), [soon])

    def test_no_trigger_without_an_account_to_match_again(self):
        self.env["shop.payment.account"].search([]).write({"rematch_days": 0})
        self._create_invoice(10.0)
        self.assertFalse(self._triggers())

    def test_an_import_batch_with_orders_waiting_for_payment_still_triggers(self):
        Account = self.env["shop.payment.account"]
        backend = self._create_shopify_backend()
        order = (
            self.env["sale.order"]
            .sudo()
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [Command.create({"product_id": self.product_a.id})],
                }
            )
        )
        record = self._create_order_import(backend, sale_order_id=order.id, state="done")
        Account._shop_trigger_rematch(record)
        self.assertFalse(self._triggers(), "no order waits for payment: nothing to match")
        order.shop_release_state = "waiting_payment"
        Account._shop_trigger_rematch(record)
        self.assertEqual(len(self._triggers()), 1, "the batch asks for matching again")
        Account._shop_trigger_rematch(record)
        self._create_invoice(10.0)
        self.assertEqual(len(self._triggers()), 1, "still one pending trigger")
