from odoo.tests import tagged

from .payment_common import ShopPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentMatching(ShopPaymentCase):
    def _best(self, line):
        matches = line.shop_match_ids.filtered(lambda m: m.state == "proposed")
        return matches.sorted(lambda m: -m.score)[:1]

    def _rules(self, match):
        return set(match.evidence_ids.mapped("rule"))

    def test_each_scoring_rule_is_evidence_on_a_stored_proposal(self):
        self.env["res.partner.bank"].create(
            {"partner_id": self.customer.id, "acc_number": "DE12500105170648489890"}
        )
        exact = self._create_invoice(119.90)
        line = self._import(self._create_transaction(119.90, f"Rechnung {exact.name}"))
        best = self._best(line)
        self.assertEqual(best.invoice_ids, exact)
        self.assertEqual(best.partner_id, self.customer)
        self.assertLessEqual(
            {"reference_exact", "amount_equal", "payer_known", "payer_name", "date_plausible"},
            self._rules(best),
        )
        self.assertEqual(best.score, 100)
        self.assertEqual(best.confidence, "high")
        for evidence in best.evidence_ids:
            self.assertTrue(evidence.detail, evidence.rule)
        scenarios = [
            (200.00, 150.00, "amount_partial"),
            (80.00, 95.00, "amount_overpaid"),
            (60.00, 59.50, "amount_within_tolerance"),
        ]
        for due, paid, rule in scenarios:
            with self.subTest(rule=rule):
                invoice = self._create_invoice(due)
                line = self._import(self._create_transaction(paid, invoice.name))
                best = self._best(line)
                self.assertEqual(best.invoice_ids, invoice)
                self.assertIn(rule, self._rules(best))
                self.assertTrue(best.needs_person)
                self.assertTrue(best.reason)

    def test_mangled_reference_is_evidence_of_its_own(self):
        invoice = self._create_invoice(42.00)
        mangled = invoice.name.replace("0", "O")
        self.assertNotEqual(mangled, invoice.name)
        line = self._import(self._create_transaction(42.00, mangled))
        self.assertIn("reference_mangled", self._rules(self._best(line)))

    def test_collective_payment_is_one_proposal_for_both_invoices(self):
        first, second = self._create_invoice(120.00), self._create_invoice(180.00)
        line = self._import(self._create_transaction(300.00, f"{first.name} {second.name}"))
        best = self._best(line)
        self.assertEqual(best.invoice_ids, first | second)
        self.assertIn("collective_amount", self._rules(best))

    def test_fees_and_outgoing_money_are_left_to_a_person(self):
        self._create_invoice(2.63)
        fee = self._import(self._create_transaction(-2.63, "PayPal fee", kind="fee"))
        self.assertFalse(fee.shop_match_ids)
        self.assertIn("fee", fee.shop_match_reason)

    def test_learning_raises_the_score_of_the_next_payment(self):
        stranger_iban = "DE44500105175407324931"
        first_invoice = self._create_invoice(30.00)
        first = self._import(
            self._create_transaction(
                30.00, first_invoice.name, counterparty_iban=stranger_iban, counterparty_name="X"
            )
        )
        match = self._best(first)
        self.assertNotIn("payer_known", self._rules(match))
        score_before = match.score
        match.action_confirm()
        mapping = self.env["shop.payer.mapping"].search([("value", "=", stranger_iban)])
        self.assertEqual(mapping.partner_id, self.customer)
        second_invoice = self._create_invoice(30.00)
        second = self._import(
            self._create_transaction(
                30.00,
                second_invoice.name,
                key="bank:TEST:second",
                counterparty_iban=stranger_iban,
                counterparty_name="X",
            )
        )
        learned = self._best(second)
        self.assertIn("payer_known", self._rules(learned))
        self.assertGreater(learned.score, score_before)

    def test_learned_payer_name_raises_the_score_of_the_next_payment(self):
        """A grandmother pays for Sophie: after one confirmed match her name is evidence."""
        self.bank_account.write({"auto_confirm": True, "auto_confirm_threshold": 50})
        first_invoice, second_invoice = self._create_invoice(31.00), self._create_invoice(47.00)
        no_iban = {"counterparty_iban": "", "counterparty_name": "Oma Schäfer"}
        first = self._import(self._create_transaction(31.00, "Danke", key="bank:N:1", **no_iban))
        # the same payer again, spelled as another bank does: no IBAN, no reference
        second = self._import(
            self._create_transaction(
                47.00,
                "Vielen Dank",
                key="bank:N:2",
                counterparty_iban="",
                counterparty_name="SCHAEFER, OMA",
            )
        )
        before = self._best(second)
        self.assertEqual(before.invoice_ids, second_invoice)
        self.assertNotIn("payer_name_learned", self._rules(before))
        score_before = before.score

        match = self._best(first)
        self.assertEqual(match.invoice_ids, first_invoice)
        self.assertEqual(match.state, "proposed")  # no reference: never confirmed alone
        match.action_confirm()
        mapping = self.env["shop.payer.mapping"].search([("kind", "=", "name")])
        self.assertEqual(mapping.value, "Oma Schäfer")
        self.assertEqual(mapping.partner_id, self.customer)

        second._shop_match()
        after = self._best(second)
        self.assertEqual(after.invoice_ids, second_invoice)
        evidence = after.evidence_ids.filtered(lambda e: e.rule == "payer_name_learned")
        self.assertEqual(evidence.points, 20)
        self.assertIn("paid for them before", evidence.detail)
        self.assertEqual(after.score, score_before + 20)
        # above the account's threshold, yet a name is no reference: a person confirms
        self.assertGreaterEqual(after.score, self.bank_account.auto_confirm_threshold)
        self.assertEqual(after.state, "proposed")
        self.assertFalse(second.is_reconciled)
        self.assertEqual(second_invoice.payment_state, "not_paid")

    def test_reject_keeps_the_line_unmatched(self):
        invoice = self._create_invoice(55.00)
        line = self._import(self._create_transaction(55.00, invoice.name))
        match = self._best(line)
        match.action_reject()
        self.assertEqual(match.state, "rejected")
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")
        # matching again does not propose the rejected invoice again
        line._shop_match()
        self.assertFalse(line.shop_match_ids.filtered(lambda m: m.state == "proposed"))

    def test_auto_confirm_is_off_by_default(self):
        invoice = self._create_invoice(77.00)
        line = self._import(self._create_transaction(77.00, invoice.name))
        self.assertFalse(self.bank_account.auto_confirm)
        self.assertEqual(self._best(line).state, "proposed")
        self.assertFalse(line.is_reconciled)

    def test_auto_confirm_above_threshold(self):
        self.bank_account.write({"auto_confirm": True, "auto_confirm_threshold": 80})
        sure = self._create_invoice(77.00)
        line = self._import(self._create_transaction(77.00, sure.name))
        match = line.shop_match_ids.filtered(lambda m: m.state == "auto_confirmed")
        self.assertEqual(match.invoice_ids, sure)
        self.assertTrue(line.is_reconciled)
        # below the threshold (no reference: amount and name only) a person decides
        self._create_invoice(66.00)
        unsure = self._import(self._create_transaction(66.00, "Danke"))
        self.assertFalse(unsure.is_reconciled)
        self.assertTrue(unsure.shop_match_ids)
        self.assertEqual(set(unsure.shop_match_ids.mapped("state")), {"proposed"})
