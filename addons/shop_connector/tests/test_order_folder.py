import importlib.util
import io
import json
import logging
import shutil
import socket
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from unittest.mock import patch

import paramiko

from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..adapters.remote_folder import FtpFolder, SftpFolder, SftpFolderSettings
from ..adapters.shops.files import FileImportAdapter, FileImportSettings
from ..adapters.statement_folder import SftpStatementFolder
from .common import ShopConnectorCase
from .payment_common import ShopPaymentCase
from .test_csv_mapping import CUSTOM_COLUMNS, CUSTOM_CSV, IMPORT_LOGGER
from .test_csv_mapping import JSON_FILE as JSON_ORDER

SERVERS = Path(__file__).resolve().parents[3] / "tests" / "integration" / "servers"


def _pem(key):
    """The unencrypted PEM text of a paramiko private key."""
    buffer = io.StringIO()
    key.write_private_key(buffer)
    return buffer.getvalue()


def _load(name):
    """A server module of the integration suite (``tests/integration/servers``)."""
    path = SERVERS / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: these tests need the repository's tests/ folder beside addons/"
        )
    module_name = f"shop_backoffice_{name}_server"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            with warnings.catch_warnings():  # pyftpdlib imports asyncore (deprecated)
                warnings.simplefilter("ignore", DeprecationWarning)
                spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return sys.modules[module_name]


@tagged("post_install", "-at_install")
class TestOrderFolder(ShopConnectorCase):
    """Order files picked up from a folder on a real local FTP server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.products = cls._create_sample_products()
        cls.pricelist = cls._create_eur_pricelist()

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="shop_order_folder_"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        ftp = _load("ftp")
        stop, thread, self.server = ftp._serve(self.tmp, ftp.FTPHandler, ftp.DTPHandler)
        self.port = self.server.port
        self.inbox = self.server.root / "in"

        def halt():
            stop.set()
            thread.join(5)

        self.addCleanup(halt)

    def _start_sftp(self, client_key=None):
        """The integration suite's SFTP server (its fixture's loop, run here); it also
        accepts ``client_key`` (a paramiko key) when given."""
        sftp = _load("sftp")
        key = sftp.paramiko.ECDSAKey.generate()
        root = (self.tmp / "sftproot").resolve()
        for folder in ("in", "out"):
            (root / folder).mkdir(parents=True)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)
        info = sftp.SftpServerInfo(
            "127.0.0.1",
            listener.getsockname()[1],
            sftp.SFTP_USER,
            sftp.SFTP_PASSWORD,
            f"{key.get_name()} {key.get_base64()}",
            root,
        )
        stop = threading.Event()

        def serve():
            while not stop.is_set():
                try:
                    conn, _address = listener.accept()
                except OSError:
                    continue
                transport = sftp.paramiko.Transport(conn)
                transport.add_server_key(key)
                interface, holder = sftp._make_sftp_interface(root, info._state)
                holder[0] = transport
                transport.set_subsystem_handler("sftp", sftp.paramiko.SFTPServer, interface)
                info._state["transports"].append(transport)
                try:
                    transport.start_server(server=sftp._Auth(client_key))
                except (sftp.paramiko.SSHException, EOFError, OSError):
                    transport.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()

        def halt():
            stop.set()
            thread.join(5)
            listener.close()
            for transport in info._state["transports"]:
                transport.close()

        self.addCleanup(halt)
        return info

    def _folder_backend(self, **overrides):
        vals = {
            "name": "Hofladen FTP",
            "backend_type": "generic",
            "file_format": "csv",
            "file_transport": "ftp",
            "file_host": "127.0.0.1",
            "file_port": self.port,
            "file_login": self.server.user,
            "file_password": self.server.password,
            "file_path": "/in",
            "pricelist_id": self.pricelist.id,
            "exception_queue_id": self.queue.id,
            "csv_delimiter": "pipe",
            "csv_decimal_separator": ".",
            "csv_date_format": "%Y-%m-%d %H:%M",
            "csv_column_map_ids": [
                (0, 0, {"field_key": key, "column": column})
                for key, column in CUSTOM_COLUMNS.items()
            ],
            **overrides,
        }
        return self.env["shop.backend"].create(vals)

    def _drop(self, name, content):
        (self.inbox / name).write_bytes(content.encode() if isinstance(content, str) else content)

    def _run_import(self, backend):
        backend.next_sync_date = False
        self._run_cron("shop_connector.ir_cron_import")
        self.env.invalidate_all()

    def _sale_orders(self, backend):
        return self.env["sale.order"].search([("shop_backend_id", "=", backend.id)])

    def test_csv_file_becomes_sale_orders_once_even_when_delivered_twice(self):
        backend = self._folder_backend()
        lane = Domain("cron_id", "=", self.env.ref("shop_connector.ir_cron_process").id)
        triggers = self.env["ir.cron.trigger"].sudo()
        triggers.search(lane).unlink()
        self._drop("orders.csv", CUSTOM_CSV)
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", backend.last_error)
        self.assertTrue(triggers.search_count(lane), "new orders: processed at once")
        triggers.search(lane).unlink()
        self.assertEqual(sorted(self._imports(backend).mapped("external_id")), ["A-1", "A-2"])
        self.assertFalse(self.inbox.joinpath("orders.csv").exists())
        done = self.inbox / "done"
        self.assertEqual((done / "orders.csv").read_text(), CUSTOM_CSV)
        self.assertIn(
            "2 orders read from orders.csv: 2 new, 0 changed, 0 imported already.",
            (done / "orders.csv.reason.txt").read_text(),
        )
        self._process()
        self.assertEqual(len(self._sale_orders(backend)), 2)
        # the shop delivers the same file again: kept beside the first, no new orders
        self._drop("orders.csv", CUSTOM_CSV)
        triggers.search(lane).unlink()
        self._run_import(backend)
        self.assertFalse(triggers.search_count(lane), "nothing new: nothing to wake")
        self._process()
        self.assertIn(
            "2 orders read from orders.csv: 0 new, 0 changed, 2 imported already.",
            (done / "orders-2.csv.reason.txt").read_text(),
        )
        self.assertEqual(len(self._imports(backend)), 2)
        self.assertEqual(len(self._sale_orders(backend)), 2)
        order = self._sale_orders(backend).filtered(lambda o: o.shop_external_ref == "A-1")
        self.assertEqual(order.partner_id.email, "anna@example.com")

    def test_order_pushed_while_the_file_is_read_counts_as_imported_already(self):
        """The shop pushes A-2 while the folder's file with A-2 is stored (the push is
        invisible to the import's transaction): the file is done, A-2 is kept once and
        counted as imported already, not as new."""
        backend = self._folder_backend()
        adapter = FileImportAdapter(
            FileImportSettings(url="", file_format="csv", csv_mapping=backend._get_csv_mapping())
        )
        pushed_orders = [o for o in adapter.parse(CUSTOM_CSV.encode()) if o.external_id == "A-2"]
        self.assertEqual(backend._shop_store_pushed_orders(pushed_orders)["stored"], 1)
        pushed = self._imports(backend)
        self._hide_stored_meanwhile(pushed)
        self._drop("orders.csv", CUSTOM_CSV)
        # the import's snapshot began before the push: its searches do not see the row
        imports_class = type(self.env["shop.order.import"])
        unseen = Domain("id", "!=", pushed.id)
        search_fetch, search_count = imports_class.search_fetch, imports_class.search_count

        def fetch_before_the_push(imports, domain, *args, **kwargs):
            return search_fetch(imports, Domain(domain) & unseen, *args, **kwargs)

        def count_before_the_push(imports, domain, *args, **kwargs):
            return search_count(imports, Domain(domain) & unseen, *args, **kwargs)

        # logging.INFO, not "INFO": Odoo gives that name to its level 25
        with (
            patch.object(imports_class, "search_fetch", fetch_before_the_push),
            patch.object(imports_class, "search_count", count_before_the_push),
            self.assertLogs(IMPORT_LOGGER, logging.INFO) as logs,
        ):
            self._run_import(backend)
        self.assertIn("Order A-2 of shop", "\n".join(logs.output))
        self.assertEqual(backend.state, "ok", backend.last_error)
        self.assertEqual(
            (self.inbox / "done" / "orders.csv.reason.txt").read_text().strip(),
            "2 orders read from orders.csv: 1 new, 0 changed, 1 imported already.",
            "the pushed order counts as imported already, not as new",
        )
        imports = self._imports(backend)
        self.assertEqual(sorted(imports.mapped("external_id")), ["A-1", "A-2"], "A-2 once")
        self.assertIn(pushed, imports)

    def test_json_file_becomes_a_sale_order(self):
        backend = self._folder_backend(file_format="json", csv_column_map_ids=False)
        self._drop("2024-07-06.json", json.dumps(JSON_ORDER))
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", backend.last_error)
        imported = self._imports(backend)
        self.assertEqual(imported.external_id, "WEB-7")
        self.assertTrue((self.inbox / "done" / "2024-07-06.json").exists())
        self._process()
        self.assertEqual(imported.state, "done", imported.last_error)
        self.assertEqual(imported.sale_order_id.partner_id.email, "jan@example.de")
        self.assertEqual(imported.sale_order_id.order_line.product_id, self.products[0])

    def test_yatego_backend_reads_the_folder_with_its_columns(self):
        backend = self._folder_backend(backend_type="yatego", csv_column_map_ids=False)
        self.assertTrue(backend.csv_column_map_ids, "Yatego's columns are filled in")
        self._drop("export.csv", "Order_ID;Bestelldatum\n")  # a file Yatego never writes
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", backend.last_error)
        self.assertTrue((self.inbox / "error" / "export.csv").exists())
        self.assertFalse(self._imports(backend))

    def test_bad_file_goes_to_error_visibly_and_is_imported_after_a_retry(self):
        self.responsible = new_test_user(self.env, "order_files_owner", email="owner@example.com")
        backend = self._folder_backend(user_id=self.responsible.id)
        self._drop("a_orders.csv", CUSTOM_CSV.replace("|Menge|", "|Anzahl|"))
        self._drop("b_orders.json", "{ not json")
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", "the folder itself works")
        self.assertFalse(self._imports(backend), "nothing of a refused file is imported")
        error = self.inbox / "error"
        self.assertEqual(sorted(p.name for p in self.inbox.iterdir() if p.is_file()), [])
        self.assertIn("Menge", (error / "a_orders.csv.reason.txt").read_text())
        self.assertTrue((error / "b_orders.json").exists())
        posted = backend.message_ids.filtered(lambda m: "not imported" in (m.body or ""))
        self.assertIn("a_orders.csv", " ".join(posted.mapped("body")))
        self.assertIn("b_orders.json", " ".join(posted.mapped("body")))
        self.assertEqual(len(posted), 2)
        self.assertEqual(posted.partner_ids, self.responsible.partner_id, "the responsible is told")
        # a person fixes the mapping and puts the files back
        backend.csv_column_map_ids.filtered(lambda m: m.column == "Menge").column = "Anzahl"
        (error / "b_orders.json").unlink()
        backend.action_retry_order_files()
        self.assertTrue((self.inbox / "a_orders.csv").exists())
        self.assertFalse((error / "a_orders.csv.reason.txt").exists())
        self._run_import(backend)
        self.assertEqual(sorted(self._imports(backend).mapped("external_id")), ["A-1", "A-2"])
        self.assertTrue((self.inbox / "done" / "a_orders.csv").exists())

    @mute_logger("odoo.addons.shop_connector.models.shop_backend_folder")
    def test_server_down_is_recorded_on_the_backend_and_moves_nothing(self):
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            dead_port = probe.getsockname()[1]
        backend = self._folder_backend(file_port=dead_port)
        self._drop("orders.csv", CUSTOM_CSV)
        self._run_import(backend)
        self.assertEqual(backend.state, "error")
        self.assertIn("TransientError", backend.last_error)
        self.assertTrue((self.inbox / "orders.csv").exists())
        self.assertFalse(self._imports(backend))
        backend.file_port = self.port
        self._run_import(backend)
        self.assertEqual(backend.state, "ok")
        self.assertEqual(len(self._imports(backend)), 2)

    def test_a_file_that_cannot_be_moved_marks_the_backend_without_repeating_posts(self):
        backend = self._folder_backend()
        self._drop("orders;1.csv", CUSTOM_CSV)  # not a plain file name: never read
        self._drop("orders.csv", CUSTOM_CSV)
        self._run_import(backend)
        messages = len(backend.message_ids)  # the state change is tracked once
        self._run_import(backend)
        self.assertEqual(backend.state, "error")
        self.assertIn("orders;1.csv", backend.last_error)
        self.assertEqual(len(self._imports(backend)), 2, "the other file is imported")
        self.assertEqual(len(backend.message_ids), messages, "no post on every run")
        (self.inbox / "orders;1.csv").rename(self.inbox / "orders-1.csv")
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", backend.last_error)
        self.assertTrue((self.inbox / "done" / "orders-1.csv").exists())

    @mute_logger("odoo.addons.shop_connector.models.shop_backend_folder")
    def test_unusable_mapping_fails_the_backend_not_the_files(self):
        backend = self._folder_backend()
        backend.csv_column_map_ids.filtered(lambda m: m.field_key == "line_quantity").unlink()
        self._drop("orders.csv", CUSTOM_CSV)
        self._run_import(backend)
        self.assertEqual(backend.state, "error")
        self.assertIn("lacks required fields", backend.last_error)
        self.assertTrue((self.inbox / "orders.csv").exists(), "the file waits for the fix")

    def test_test_connection_counts_the_waiting_files(self):
        backend = self._folder_backend()
        self._drop("orders.csv", CUSTOM_CSV)
        self._drop("upload.csv.part", "half")
        result = backend.action_test_connection()
        self.assertIn("1 order files", result["params"]["message"])
        backend.file_password = "wrong"
        with self.assertRaisesRegex(UserError, "did not answer"):
            backend.action_test_connection()

    @mute_logger("odoo.addons.shop_connector.models.shop_backend_folder")
    def test_json_file_from_an_sftp_folder_with_the_host_key_pinned(self):
        server = self._start_sftp()
        backend = self._folder_backend(
            file_format="json",
            csv_column_map_ids=False,
            file_transport="sftp",
            file_port=server.port,
            file_login=server.user,
            file_password=server.password,
            file_host_key="ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=",
        )
        inbox = server.root / "in"
        (inbox / "orders.json").write_text(json.dumps(JSON_ORDER))
        self._run_import(backend)
        self.assertEqual(backend.state, "error")
        self.assertIn("host key mismatch", backend.last_error)
        self.assertTrue((inbox / "orders.json").exists(), "nothing is read from a stranger")
        backend.file_host_key = server.host_key
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", backend.last_error)
        self.assertEqual(self._imports(backend).external_id, "WEB-7")
        self.assertTrue((inbox / "done" / "orders.json").exists())
        # delivered again: no second order
        (inbox / "orders.json").write_text(json.dumps(JSON_ORDER))
        self._run_import(backend)
        self.assertEqual(len(self._imports(backend)), 1)
        self.assertTrue((inbox / "done" / "orders-2.json").exists())

    @mute_logger("odoo.addons.shop_connector.models.shop_backend_folder")
    def test_sftp_folder_logs_in_with_a_private_key(self):
        client_key = paramiko.ECDSAKey.generate()
        server = self._start_sftp(client_key=client_key)
        backend = self._folder_backend(
            file_format="json",
            csv_column_map_ids=False,
            file_transport="sftp",
            file_port=server.port,
            file_login=server.user,
            file_password=False,
            file_host_key=server.host_key,
            file_private_key=_pem(client_key),
        )
        (server.root / "in" / "orders.json").write_text(json.dumps(JSON_ORDER))
        self._run_import(backend)
        self.assertEqual(backend.state, "ok", backend.last_error)
        self.assertEqual(self._imports(backend).external_id, "WEB-7")
        self.assertTrue((server.root / "in" / "done" / "orders.json").exists())
        field = backend._fields["file_private_key"]
        self.assertEqual((field.copy, field.groups), (False, "shop_connector.group_manager"))

    @mute_logger("odoo.addons.shop_connector.models.shop_backend_folder")
    def test_an_unusable_private_key_is_a_clear_error(self):
        backend = self._folder_backend(
            file_transport="sftp",
            file_host_key="ssh-ed25519 AAAAkey",
            file_private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nnonsense\n",
        )
        with self.assertRaisesRegex(UserError, "private key of the order folder is not an"):
            backend._get_order_folder()
        with self.assertRaisesRegex(UserError, "private key of the order folder is not an"):
            backend.action_test_connection()
        self._run_import(backend)
        self.assertEqual(backend.state, "error")
        self.assertIn("SSH private key of the order folder", backend.last_error)
        backend.file_private_key = _pem(paramiko.ECDSAKey.generate())
        self.assertTrue(backend._get_order_folder().settings.private_key.startswith("-----BEGIN"))

    def test_folder_settings_reach_the_adapters(self):
        backend = self._folder_backend(file_transport="ftps", file_port=0)
        folder = backend._get_order_folder()
        self.assertIsInstance(folder, FtpFolder)
        self.assertEqual((folder.settings.port, folder.settings.tls), (21, True))
        backend.write({"file_transport": "sftp", "file_host_key": "ssh-ed25519 AAAAkey"})
        self.assertEqual(
            backend._get_order_folder().settings,
            SftpFolderSettings("127.0.0.1", "ssh-ed25519 AAAAkey", 22, "carrier", "s3cret", "/in"),
        )
        self.assertIsInstance(backend._get_order_folder(), SftpFolder)
        backend.file_host = False
        with self.assertRaisesRegex(UserError, "server of the order folder"):
            backend._get_order_folder()


@tagged("post_install", "-at_install")
class TestPaymentFolderSftp(ShopPaymentCase):
    """The statement folder on an SFTP server."""

    def test_sftp_folder_settings_reach_the_sftp_adapter(self):
        self.bank_account.write(
            {
                "folder_protocol": "sftp",
                "folder_host": "sftp.bank.example",
                "folder_port": 21,
                "folder_login": "acme",
                "folder_password": "pw",
                "folder_path": "/out",
                "folder_host_key": "ssh-ed25519 AAAAbank",
            }
        )
        folder = self.bank_account._get_statement_folder()
        self.assertIsInstance(folder, SftpStatementFolder)
        self.assertEqual(
            folder.settings,
            SftpFolderSettings(
                "sftp.bank.example", "ssh-ed25519 AAAAbank", 22, "acme", "pw", "/out"
            ),
        )
        self.bank_account.folder_port = 2222
        self.assertEqual(self.bank_account._get_statement_folder().settings.port, 2222)

    def test_the_private_key_reaches_the_sftp_adapter_and_a_bad_one_is_recorded(self):
        key = _pem(paramiko.ECDSAKey.generate())
        self.bank_account.write(
            {
                "folder_protocol": "sftp",
                "folder_host": "sftp.bank.example",
                "folder_path": "/out",
                "folder_host_key": "ssh-ed25519 AAAAbank",
                "folder_private_key": key,
            }
        )
        settings = self.bank_account._get_statement_folder().settings
        self.assertEqual((settings.private_key, settings.password), (key, ""))
        self.bank_account.folder_private_key = "not a key"
        with self.assertRaisesRegex(PermanentError, "private key of the statement folder"):
            self.bank_account._get_statement_folder()
        with self.assertLogs(
            "odoo.addons.shop_connector.models.shop_payment_account_files", "WARNING"
        ):
            self.assertEqual(self.bank_account._import_folder(5), [])
        self.assertEqual(self.bank_account.state, "error")
        self.assertIn("private key of the statement folder", self.bank_account.last_error)
