import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail_crm_shop.services.errors import TransientError

from ..adapters.paypal import PayPalWindow, map_transaction
from .payment_common import ShopPaymentCase

PAYMENTS = Path(__file__).resolve().parent / "data"

NOW = datetime(2026, 3, 3, 12, 0)


class FakePayPal:
    """PayPal windows mapped by the real mapping from the sample JSON; may fail instead."""

    def __init__(self, details, error=None):
        self.details = details
        self.error = error
        self.calls = []

    def fetch_windows(self, cursor_end, now):
        self.calls.append((cursor_end, now))
        if self.error:
            raise self.error
        transactions, skipped = [], []
        for detail in self.details:
            moved, skip = map_transaction(detail, "paypal-test")
            transactions += moved
            skipped += skip
        start = cursor_end - timedelta(hours=3)
        yield PayPalWindow(start, now, tuple(transactions), tuple(skipped))


@tagged("post_install", "-at_install")
class TestPaymentImport(ShopPaymentCase):
    def _wizard(self, data, file_format="camt", account=None):
        return self.env["shop.payment.import.wizard"].create(
            {
                "payment_account_id": (account or self.bank_account).id,
                "file_format": file_format,
                "data_file": base64.b64encode(data),
                "filename": "statement",
            }
        )

    def _lines(self, account=None):
        return self.env["account.bank.statement.line"].search(
            [("shop_payment_account_id", "=", (account or self.bank_account).id)]
        )

    def test_same_camt_file_twice_creates_nothing_new(self):
        data = (PAYMENTS / "payments_camt053_v08_bank.xml").read_bytes()
        first = self._wizard(data)
        first.action_import()
        self.assertIn("3 new, 0 already imported", first.result)
        lines = self._lines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(
            sorted(lines.mapped("shop_transaction_kind")), ["fee", "payment", "reversal"]
        )
        self.assertEqual(len(lines.statement_id), 1)
        self.assertEqual(lines.journal_id, self.bank_journal)
        second = self._wizard(data)
        second.action_import()
        self.assertIn("0 new, 3 already imported", second.result)
        self.assertEqual(self._lines(), lines)

    def test_camt_v02_batch_entry_becomes_one_line_per_transaction(self):
        account = self._create_payment_account(
            name="Sparkasse", account_identifier="DE02 1203 0000 0000 2020 51"
        )
        wizard = self._wizard(
            (PAYMENTS / "payments_camt053_v02_sparkasse.xml").read_bytes(), account=account
        )
        wizard.action_import()
        amounts = sorted(self._lines(account).mapped("amount"))
        self.assertIn(120.0, amounts)
        self.assertIn(180.0, amounts)
        self.assertIn(-42.66, amounts)

    def test_statement_of_another_account_is_refused(self):
        data = (PAYMENTS / "payments_camt053_v02_sparkasse.xml").read_bytes()
        with self.assertRaisesRegex(UserError, "not DE02500105170137075030"):
            self._wizard(data).action_import()
        self.assertFalse(self._lines())

    def test_broken_camt_file_is_a_clear_error(self):
        for name in ("malformed", "xxe", "invalid_schema"):
            with self.subTest(name=name), self.assertRaisesRegex(UserError, "cannot be imported"):
                self._wizard(
                    (PAYMENTS / f"payments_camt053_{name}.xml").read_bytes()
                ).action_import()
        self.assertFalse(self._lines())

    def test_csv_import_reports_bad_rows_and_imports_once(self):
        self.bank_account.write(
            {
                "account_identifier": "DE02120300000000202051",
                "csv_columns": "\n".join(
                    [
                        "booking_date=Buchungstag",
                        "value_date=Valutadatum",
                        "counterparty_name=Auftraggeber / Begünstigter",
                        "counterparty_iban=IBAN",
                        "purpose=Verwendungszweck",
                        "end_to_end_id=Kundenreferenz (End-to-End)",
                        "amount=Betrag (EUR)",
                        "currency=Währung",
                    ]
                ),
            }
        )
        data = (PAYMENTS / "payments_sparkasse_umsaetze.csv").read_bytes()
        first = self._wizard(data, "csv")
        first.action_import()
        self.assertIn("5 new, 0 already imported", first.result)
        self.assertIn("Line 9 not imported", first.result)
        self.assertIn("Line 10 not imported", first.result)
        second = self._wizard(data, "csv")
        second.action_import()
        self.assertIn("0 new, 5 already imported", second.result)
        self.assertEqual(len(self._lines()), 5)

    def test_csv_mapping_line_without_header_is_refused(self):
        self.bank_account.csv_columns = "booking_date"
        with self.assertRaisesRegex(UserError, "field=header"):
            self._wizard(b"x", "csv").action_import()


@tagged("post_install", "-at_install")
class TestPayPalImport(ShopPaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paypal_journal = cls.env["account.journal"].create(
            {"name": "PayPal", "type": "bank", "code": "PPL"}
        )
        cls.paypal = cls._create_payment_account(
            name="PayPal", kind="paypal", journal_id=cls.paypal_journal.id, account_identifier=""
        )
        cls.details = json.loads((PAYMENTS / "payments_paypal_window.json").read_text())[
            "transaction_details"
        ]

    @mute_logger("odoo.addons.shop_connector.models.shop_payment_account_paypal")
    def _run_with(self, fake):
        patcher = patch.object(
            type(self.env["shop.payment.account"]), "_get_paypal_adapter", lambda account: fake
        )
        with patcher, freeze_time(NOW), self.enter_registry_test_mode():
            result = self.env.ref("shop_connector.ir_cron_import_paypal").method_direct_trigger()
        self.assertIs(result, True, "the cron raised")
        self.paypal.invalidate_recordset()

    def _lines(self):
        return self.env["account.bank.statement.line"].search(
            [("shop_payment_account_id", "=", self.paypal.id)]
        )

    def test_window_is_stored_with_fees_apart_and_cursor_saved(self):
        fake = FakePayPal(self.details)
        self._run_with(fake)
        lines = self._lines()
        self.assertEqual(
            sorted(lines.mapped("shop_transaction_kind")), ["fee", "fee", "payment", "refund"]
        )
        payment = lines.filtered(lambda line: line.shop_transaction_kind == "payment")
        fee = lines.filtered(lambda line: line.shop_related_key == "paypal:5TY05013RG002845M:T0006")
        self.assertEqual(payment.amount, 119.90)
        self.assertEqual(fee.amount, -2.63)
        self.assertEqual(payment.shop_payer_email, "sophie.schaefer@example.com")
        self.assertNotIn("9GS80322RN482161B", " ".join(lines.mapped("shop_transaction_key")))
        self.assertEqual(self.paypal.paypal_cursor_date, NOW)
        self.assertEqual(self.paypal.state, "ok")
        # the next run starts at the cursor; the overlapping window stores nothing twice
        self._run_with(fake)
        self.assertEqual(fake.calls[-1][0], NOW.replace(tzinfo=timezone.utc))
        self.assertEqual(self._lines(), lines)

    def test_failure_is_stored_on_the_account_and_a_later_run_succeeds(self):
        self._run_with(FakePayPal(self.details, error=TransientError("PayPal rate limit (429)")))
        self.assertEqual(self.paypal.state, "error")
        self.assertIn("429", self.paypal.last_error)
        self.assertFalse(self.paypal.paypal_cursor_date)
        self.assertFalse(self._lines())
        self._run_with(FakePayPal(self.details))
        self.assertEqual(self.paypal.state, "ok")
        self.assertFalse(self.paypal.last_error)
        self.assertEqual(len(self._lines()), 4)
