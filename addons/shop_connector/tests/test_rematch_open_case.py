from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import REMATCH, ShopConnectorCase, ShopRematchMixin
from .payment_common import ShopPaymentCase

OPEN_CASES = "shop_connector.ir_cron_open_unmatched_cases"
FOUND = "was found for this payment"


@tagged("post_install", "-at_install")
class TestRematchOpenCase(ShopRematchMixin, ShopPaymentCase, ShopConnectorCase):
    """A payment left unmatched got its case; its order is imported later: the system
    proposes the order and tells the person on the case, who confirms."""

    @classmethod
    def get_default_groups(cls):
        return (
            super().get_default_groups()
            | cls.env.ref("shop_connector.group_manager")
            | cls.env.ref("sales_team.group_sale_manager")
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._auto_confirm_sure_matches(unmatched_case_days=7, queue_id=cls.queue.id)
        cls.booked = fields.Date.subtract(fields.Date.today(), days=10)

    def _payment_with_case(self, purpose, key):
        """An incoming payment nobody could match: the case cron opened its case."""
        lines, _known = self.bank_account._import_transactions(
            [self._create_transaction(40.00, purpose, key=key, booking_date=self.booked)],
            "Statement",
        )
        lines._shop_match()
        self.assertFalse(lines.shop_match_ids, "no order yet: nothing to propose")
        self._run_cron(OPEN_CASES)
        lines.invalidate_recordset()
        self.assertTrue(lines.shop_case_id, "the case cron opened the case")
        self.assertEqual(lines.shop_case_id.sudo().state, "new")
        return lines

    def _waiting_order(self, shop_ref, **overrides):
        """An order placed in the shop the day before the payment, imported only now."""
        date_order = fields.Datetime.to_datetime(self.booked) - timedelta(days=1)
        return super()._waiting_order(shop_ref, date_order=date_order, **overrides)

    def _found_notes(self, case):
        note = self.env.ref("mail.mt_note")
        return case.message_ids.filtered(
            lambda m: m.subtype_id == note and FOUND in str(m.body or "")
        )

    def test_open_case_gets_a_proposal_and_one_note(self):
        line = self._payment_with_case("Bestellung 900111", "k:open")
        case = line.shop_case_id.sudo()  # the accountant does not see team inbox cases
        agent = new_test_user(self.env, "case_agent", groups="mail_crm_shop.group_user")
        case.user_id = agent
        order = self._waiting_order("900111")

        self._run_cron(REMATCH)
        match = line.shop_match_ids
        self.assertEqual(match.sale_order_id, order)
        self.assertEqual(match.state, "proposed", "sure, but a person has the case")
        self.assertGreaterEqual(match.score, 80)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(order.shop_release_state, "waiting_payment")
        self.assertIn("a person has the case", line.shop_match_reason)
        notes = self._found_notes(case)
        self.assertEqual(len(notes), 1)
        self.assertIn(
            f"A matching order was found for this payment: {order.name} (score {match.score})",
            notes.preview,
        )
        self.assertRegex(str(notes.body), rf"data-oe-id=.{match.id}\D", "links to the proposal")
        activity = case.activity_ids
        self.assertEqual(activity.user_id, agent, "the case owner is asked to confirm")
        self.assertEqual(activity.summary, "Confirm the match on the payment")

        self._run_cron(REMATCH)
        self.assertEqual(line.shop_match_ids, match, "kept: the same proposal")
        self.assertEqual(match.state, "proposed")
        self.assertEqual(len(self._found_notes(case)), 1, "no second note for the same proposal")
        self.assertEqual(case.activity_ids, activity, "no second activity")

        match.action_confirm()  # the person confirms on the payment
        self.assertTrue(line.is_reconciled)
        self._run_cron(REMATCH)
        self.assertEqual(match.state, "confirmed")
        self.assertEqual(len(self._found_notes(case)), 1)

    def test_open_case_is_told_about_an_invoice(self):
        line = self._payment_with_case("Rechnung", "k:invoice")
        case = line.shop_case_id.sudo()  # the accountant does not see team inbox cases
        self.assertFalse(case.user_id)
        invoice = self._create_invoice(40.00)
        self._run_cron(REMATCH)
        match = line.shop_match_ids
        self.assertEqual(match.invoice_ids, invoice)
        self.assertEqual(match.state, "proposed")
        notes = self._found_notes(case)
        self.assertEqual(len(notes), 1)
        self.assertIn(
            f"A matching invoice was found for this payment: {invoice.name}", notes.preview
        )
        self.assertFalse(case.activity_ids, "nobody is assigned: the note only")

    def test_closed_case_is_left_alone(self):
        line = self._payment_with_case("Bestellung 900222", "k:closed")
        case = line.shop_case_id.sudo()  # the accountant does not see team inbox cases
        case.state = "done"
        order = self._waiting_order("900222")
        self._run_cron(REMATCH)
        self.assertFalse(line.shop_match_ids, "the person closed the case: decided")
        self.assertFalse(self._found_notes(case))
        self.assertEqual(order.shop_release_state, "waiting_payment")
        case.state = "archived"
        self._run_cron(REMATCH)
        self.assertFalse(line.shop_match_ids)

    def test_sure_payment_without_case_is_still_confirmed(self):
        lines, _known = self.bank_account._import_transactions(
            [self._create_transaction(40.00, "Bestellung 900333", key="k:nocase")], "Statement"
        )
        lines._shop_match()
        self.assertFalse(lines.shop_case_id)
        order = self._waiting_order("900333")
        self._run_cron(REMATCH)
        self.assertEqual(lines.shop_match_ids.state, "auto_confirmed")
        self.assertEqual(lines.shop_match_ids.sale_order_id, order)
        self.assertTrue(lines.is_reconciled)
        self.assertEqual(order.shop_release_state, "released")
