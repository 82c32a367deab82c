from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import REMATCH, ShopConnectorCase, ShopRematchMixin, clean_shopify_payload
from .payment_common import ShopPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentRematch(ShopRematchMixin, ShopPaymentCase, ShopConnectorCase):
    """Customers pay with the shop's order number before the order reaches Odoo: the
    payment is matched again once the order (or an invoice) is there."""

    @classmethod
    def get_default_groups(cls):
        return (
            super().get_default_groups()
            | cls.env.ref("shop_connector.group_manager")
            | cls.env.ref("stock.group_stock_manager")
            | cls.env.ref("sales_team.group_sale_manager")  # the orders the import created
        )

    def _import_statement(self, *transactions):
        lines, _known = self.bank_account._import_transactions(list(transactions), "Statement")
        lines._shop_match()
        return lines

    def _triggered(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def _proposed(self, line):
        return line.shop_match_ids.filtered(lambda m: m.state == "proposed")

    def _invoice(self, amount, origin=""):
        invoice = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            amounts=[amount],
            taxes=[],
            invoice_date=fields.Date.today(),
        )
        invoice.invoice_origin = origin or False
        invoice.action_post()
        return invoice

    def test_payment_before_its_order_is_confirmed_once_the_order_is_imported(self):
        self._auto_confirm_sure_matches()
        backend = self._create_shopify_backend()
        self._create_sample_products()
        self.env["shop.payment.method.map"].create(
            {"backend_id": backend.id, "shop_code": "paypal", "method_kind": "prepayment"}
        )
        # the customer pays in the shop's currency right after ordering
        line = self._import_statement(
            self._create_transaction(
                60.52,
                "Bestellung #1042  Erika Mustermann",
                counterparty_name="Erika Mustermann",
                currency="EUR",
            )
        )
        self.assertFalse(line.shop_match_ids, "no order yet: nothing to propose")
        self.assertFalse(line.is_reconciled)
        self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]).unlink()

        now = fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%S+00:00")
        payload = clean_shopify_payload(created_at=now, updated_at=now, processed_at=now)
        ShopConnectorCase._import(self, backend, [([payload], None)])
        self._process()
        order = self._imports(backend).sale_order_id
        self.assertEqual(order.shop_release_state, "waiting_payment")
        self.assertAlmostEqual(order.amount_total, 60.52, places=2)
        self.assertTrue(self._triggered(), "the import asks for matching again")

        self._run_cron(REMATCH)
        match = line.shop_match_ids.filtered(lambda m: m.state == "auto_confirmed")
        self.assertEqual(match.sale_order_id, order)
        self.assertIn("shop order number", match.evidence_ids.mapped("detail")[0])
        self.assertTrue(line.is_reconciled)
        self.assertEqual(order.shop_release_state, "released")
        self.assertEqual(order.state, "sale")
        # matching again leaves the confirmed match alone
        self._run_cron(REMATCH)
        self.assertEqual(match.state, "auto_confirmed")
        self.assertEqual(len(line.shop_match_ids), 1)

    def test_rejected_proposal_is_not_proposed_again(self):
        line = self._import_statement(self._create_transaction(40.00, "Danke"))
        self.assertFalse(line.shop_match_ids)
        self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]).unlink()
        first = self._invoice(40.00)
        self.assertTrue(self._triggered(), "a posted invoice asks for matching again")
        self._run_cron(REMATCH)
        proposal = self._proposed(line)
        self.assertEqual(proposal.invoice_ids, first)
        proposal.action_reject()

        self._run_cron(REMATCH)
        self.assertFalse(self._proposed(line), "the rejected invoice stays rejected")
        self.assertEqual(line.shop_match_ids, proposal)
        self.assertEqual(proposal.state, "rejected")

        second = self._invoice(40.00)
        self._run_cron(REMATCH)
        self.assertEqual(self._proposed(line).invoice_ids, second)
        self.assertEqual(proposal.state, "rejected")
        self.assertEqual(first.payment_state, "not_paid")

    def test_proposals_are_kept_unless_a_better_candidate_appears(self):
        line = self._import_statement(self._create_transaction(40.00, "Auftrag 4711"))
        weak = self._invoice(40.00)
        self._run_cron(REMATCH)
        proposal = self._proposed(line)
        self.assertEqual(proposal.invoice_ids, weak)
        message_count = len(proposal.message_ids)
        self._run_cron(REMATCH)
        self.assertEqual(self._proposed(line), proposal, "kept: the same record")
        self.assertEqual(len(proposal.message_ids), message_count)

        strong = self._invoice(40.00, origin="4711")
        self._run_cron(REMATCH)
        best = self._proposed(line).sorted("score", reverse=True)
        self.assertEqual(best[0].invoice_ids, strong)
        self.assertGreater(best[0].score, proposal.score)
        self.assertIn(proposal, best, "the weaker proposal stays as the runner-up")
        self.assertFalse(line.is_reconciled, "auto-confirm is off")

    def test_a_stale_proposal_is_dropped(self):
        line = self._import_statement(self._create_transaction(40.00, "Danke"))
        invoice = self._invoice(40.00)
        self._run_cron(REMATCH)
        self.assertEqual(self._proposed(line).invoice_ids, invoice)
        other = self._import_statement(
            self._create_transaction(40.00, invoice.name, key="bank:TEST:other")
        )
        self._best_proposal(other).action_confirm()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self._run_cron(REMATCH)
        self.assertFalse(self._proposed(line), "the paid invoice is no longer proposed")

    def _best_proposal(self, line):
        return self._proposed(line).sorted("score", reverse=True)[:1]

    def test_two_payments_for_one_order_confirm_it_once(self):
        self._auto_confirm_sure_matches()
        twice = [
            self._create_transaction(40.00, "Bestellung 900077", key=f"bank:TEST:twice:{n}")
            for n in (1, 2)
        ]
        lines = self._import_statement(*twice)
        order = self._waiting_order("900077")
        self._run_cron(REMATCH)
        confirmed = lines.shop_match_ids.filtered(lambda m: m.state == "auto_confirmed")
        self.assertEqual(len(confirmed), 1, "one payment confirms the order")
        self.assertEqual(confirmed.sale_order_id, order)
        other = lines - confirmed.statement_line_id
        self.assertFalse(other.is_reconciled)
        self.assertIn("another payment", other.shop_match_reason)
        self.assertEqual(order.shop_release_state, "released")

    def test_old_payments_and_payments_with_a_closed_case_are_left_alone(self):
        self._auto_confirm_sure_matches(rematch_days=10)
        old_day = fields.Date.subtract(fields.Date.today(), days=11)
        old, with_case = self._import_statement(
            self._create_transaction(40.00, "Bestellung 900088", key="k:old", booking_date=old_day),
            self._create_transaction(40.00, "Bestellung 900099", key="k:case"),
        )
        with_case.shop_case_id = (
            self.env["crm.shop.case"]
            .sudo()
            .create({"name": "Unmatched", "queue_id": self.queue.id, "state": "done"})
        )
        self._waiting_order("900088")
        self._waiting_order("900099")
        self._run_cron(REMATCH)
        self.assertFalse(old.shop_match_ids, "older than the account's days")
        # an open case is matched again: test_rematch_open_case.py
        self.assertFalse(with_case.shop_match_ids, "a person closed the case: decided")

    def test_a_case_that_cannot_be_opened_does_not_stop_the_others(self):
        self.bank_account.write({"unmatched_case_days": 7, "queue_id": self.queue.id})
        day = fields.Date.subtract(fields.Date.today(), days=10)
        broken, fine = self._import_statement(
            self._create_transaction(13.37, "keine Ahnung", key="k:broken", booking_date=day),
            self._create_transaction(14.00, "auch nicht", key="k:fine", booking_date=day),
        )
        account_class = type(self.env["shop.payment.account"])
        original = account_class._open_unmatched_case

        def failing(account, line):
            if line == broken:
                raise ValueError("queue unavailable")
            return original(account, line)

        with (
            patch.object(account_class, "_open_unmatched_case", failing),
            self.assertLogs(
                "odoo.addons.shop_connector.models.shop_payment_account_cases", "WARNING"
            ) as logged,
        ):
            self._run_cron("shop_connector.ir_cron_open_unmatched_cases")
        self.assertIn(f"no case for movement {broken.id}: queue unavailable", logged.output[0])
        self.assertEqual(len(logged.output), 1, "only the broken payment failed")
        (broken | fine).invalidate_recordset()
        self.assertTrue(fine.shop_case_id, "the other payment got its case")
        self.assertFalse(broken.shop_case_id)
        self.assertIn("queue unavailable", broken.shop_match_reason)
        self.assertIn("failed", broken.shop_match_reason)
        # the next run opens it
        with freeze_time(fields.Date.today() + timedelta(days=1)):
            self._run_cron("shop_connector.ir_cron_open_unmatched_cases")
        broken.invalidate_recordset()
        self.assertTrue(broken.shop_case_id)

    def test_an_order_locked_by_another_worker_is_confirmed_by_a_later_run(self):
        """Another worker holds the order (SKIP LOCKED gives nothing back): this worker
        leaves the payment proposed and says why; a later run confirms it. The real
        two-process race is tests/faults/test_cron_payments_rematch.py."""
        self._auto_confirm_sure_matches()
        line = self._import_statement(self._create_transaction(40.00, "Bestellung 900066"))
        order = self._waiting_order("900066")
        order_class = type(self.env["sale.order"])
        with patch.object(order_class, "_shop_try_lock_for_update", lambda self: self.browse()):
            self._run_cron(REMATCH)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(self._proposed(line).sale_order_id, order)
        self.assertIn("another payment", line.shop_match_reason)
        self.assertEqual(order.shop_release_state, "waiting_payment")
        self._run_cron(REMATCH)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(line.shop_match_ids.state, "auto_confirmed")
        self.assertEqual(order.shop_release_state, "released")

    def test_a_marketplace_number_in_the_customer_reference_is_recognised(self):
        self._auto_confirm_sure_matches()
        line = self._import_statement(
            self._create_transaction(40.00, "Bestellung 302-1234567-1234567  Sophie Schäfer")
        )
        typed = self._waiting_order(False)
        typed.client_order_ref = "302-1234567-1234567"  # an Amazon order entered by hand
        word = self._waiting_order(False)
        word.client_order_ref = "Bestellung"  # a word: found in any purpose, no reference
        self._run_cron(REMATCH)
        match = line.shop_match_ids.filtered(lambda m: m.state == "auto_confirmed")
        self.assertEqual(match.sale_order_id, typed)
        self.assertIn("shop order number", " ".join(match.evidence_ids.mapped("detail")))
        self.assertEqual(word.shop_release_state, "waiting_payment")
