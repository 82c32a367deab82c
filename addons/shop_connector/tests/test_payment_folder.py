import shutil
import tempfile
from pathlib import Path

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..adapters.statement_folder import FtpFolderSettings, FtpStatementFolder
from .payment_common import ShopPaymentCase

PAYMENTS = Path(__file__).resolve().parent / "data"


@tagged("post_install", "-at_install")
class TestPaymentFolder(ShopPaymentCase):
    """Statement files picked up from a folder on the server by the cron."""

    def setUp(self):
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix="shop_statements_"))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        self.bank_account.folder_path = str(self.folder)
        self.cron = self.env.ref("shop_connector.ir_cron_import_statement_folders")

    def _lines(self):
        return self.env["account.bank.statement.line"].search(
            [("shop_payment_account_id", "=", self.bank_account.id)]
        )

    def _drop(self, source, name=None):
        shutil.copy(PAYMENTS / source, self.folder / (name or source))

    def _run(self):
        with self.enter_registry_test_mode():
            self.cron.method_direct_trigger()
        self.env.invalidate_all()

    def test_files_are_imported_once_and_moved_to_done_or_error(self):
        self._drop("payments_camt053_v08_bank.xml", "2026-03-02.xml")
        self._drop("payments_camt053_xxe.xml", "2026-03-03.xml")
        self._drop("payments_camt053_v08_bank.xml", "notes.pdf")
        self._run()
        self.assertEqual(len(self._lines()), 3)
        self.assertEqual(sorted(p.name for p in self.folder.iterdir() if p.is_file()), [])
        done = self.folder / "done"
        error = self.folder / "error"
        self.assertTrue((done / "2026-03-02.xml").exists())
        self.assertIn("3 new, 0 already imported", (done / "2026-03-02.xml.reason.txt").read_text())
        self.assertTrue((error / "2026-03-03.xml").exists())
        self.assertIn("CAMT", (error / "2026-03-03.xml.reason.txt").read_text())
        self.assertIn("not a statement file", (error / "notes.pdf.reason.txt").read_text())
        self.assertEqual(self.bank_account.state, "ok")
        messages = self.bank_account.message_ids.mapped("body")
        self.assertTrue(any("2026-03-03.xml" in body for body in messages))
        self.assertTrue(any(self._lines().mapped("shop_match_reason")), "the lines were matched")
        # the same statement again, under another name: nothing new
        self._drop("payments_camt053_v08_bank.xml", "2026-03-02-again.xml")
        self._run()
        self.assertEqual(len(self._lines()), 3)
        self.assertIn(
            "0 new, 3 already imported", (done / "2026-03-02-again.xml.reason.txt").read_text()
        )

    def test_other_accounts_statement_goes_to_error_with_the_reason(self):
        self._drop("payments_camt053_v02_sparkasse.xml")
        self._run()
        self.assertFalse(self._lines())
        error = self.folder / "error"
        reason = (error / "payments_camt053_v02_sparkasse.xml.reason.txt").read_text()
        self.assertIn("not DE02500105170137075030", reason)

    def test_csv_file_uses_the_accounts_mapping(self):
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
        self._drop("payments_sparkasse_umsaetze.csv")
        self._run()
        self.assertTrue((self.folder / "done" / "payments_sparkasse_umsaetze.csv").exists())
        self.assertEqual(len(self._lines()), 5)
        note = (self.folder / "done" / "payments_sparkasse_umsaetze.csv.reason.txt").read_text()
        self.assertIn("5 new, 0 already imported", note)
        self.assertIn("Line 9 not imported", note)

    @mute_logger("odoo.addons.shop_connector.models.shop_payment_account_files")
    def test_missing_folder_is_recorded_on_the_account_and_a_later_run_succeeds(self):
        self.bank_account.folder_path = str(self.folder / "missing")
        self._run()
        self.assertEqual(self.bank_account.state, "error")
        self.assertIn("does not exist", self.bank_account.last_error)
        (self.folder / "missing").mkdir()
        shutil.copy(PAYMENTS / "payments_camt053_v08_bank.xml", self.folder / "missing" / "a.xml")
        self._run()
        self.assertEqual(self.bank_account.state, "ok")
        self.assertEqual(len(self._lines()), 3)

    def test_ftp_folder_settings_reach_the_ftp_adapter(self):
        self.bank_account.write(
            {
                "folder_protocol": "ftps",
                "folder_host": "ftp.bank.example",
                "folder_port": 2121,
                "folder_login": "acme",
                "folder_password": "pw",
                "folder_path": "/out",
            }
        )
        folder = self.bank_account._get_statement_folder()
        self.assertIsInstance(folder, FtpStatementFolder)
        self.assertEqual(
            folder.settings,
            FtpFolderSettings("ftp.bank.example", 2121, "acme", "pw", "/out", tls=True),
        )

    @mute_logger("odoo.addons.shop_connector.models.shop_payment_account_files")
    def test_ftp_folder_without_a_host_is_recorded_on_the_account(self):
        self.bank_account.write({"folder_protocol": "ftp", "folder_host": False})
        self._run()
        self.assertEqual(self.bank_account.state, "error")
        self.assertIn("FTP host", self.bank_account.last_error)
