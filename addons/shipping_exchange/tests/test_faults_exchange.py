"""Fault injection on the exchange with real FTP and SFTP servers on 127.0.0.1.

The servers are the integration suite's (``tests/integration/servers/ftp.py`` and
``sftp.py`` at the repository root, loaded by path): pyftpdlib and a paramiko SFTP
server, both able to drop the line in the middle of an upload. The profile's real
transport adapters are used; nothing is faked. After each fault: nothing visible to the
carrier but complete files, the failure recorded on the record with its reason, and a
later run that completes the work exactly once.
"""

import base64
import importlib.util
import shutil
import socket
import sys
import tempfile
import threading
import warnings
from datetime import datetime, timedelta
from pathlib import Path

from odoo.tests import tagged

from .common import ShippingExchangeCase

REPO = Path(__file__).resolve().parents[3]
SERVERS = REPO / "tests/integration/servers"
T0 = datetime(2026, 11, 20, 8, 0)


def _load(name):
    """A server module of the integration suite, loaded from its file."""
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


def _xml(*confirmations):
    body = "".join(
        f'<Confirmation reference="{ref}"><TrackingNumber>{tracking}</TrackingNumber>'
        f"<Carrier>DHL</Carrier></Confirmation>"
        for ref, tracking in confirmations
    )
    return f"<Confirmations>{body}</Confirmations>".encode()


class ExchangeFaultCase(ShippingExchangeCase):
    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="exchange-faults-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def _start_ftp(self):
        ftp = _load("ftp")
        stop, thread, info = ftp._serve(self.tmp, ftp.FTPHandler, ftp.DTPHandler)

        def halt():
            stop.set()
            thread.join(5)

        self.addCleanup(halt)
        return info

    def _start_sftp(self):
        """The integration suite's SFTP server (its fixture's loop, run here)."""
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
                    transport.start_server(server=sftp._Auth())
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

    def _profile_for(self, info, transport, **overrides):
        vals = {
            "transport": transport,
            "host": info.host,
            "port": info.port,
            "login": info.user,
            "password": info.password,
            "remote_dir": "/in",
            "confirmation_dir": "/out",
            **overrides,
        }
        if transport == "sftp":
            vals["host_key"] = info.host_key
        return self._create_profile(**vals)


@tagged("post_install", "-at_install")
class TestFaultsUploadCut(ExchangeFaultCase):
    def _assert_cut_then_completed(self, info, transport):
        profile = self._profile_for(info, transport)
        picking = self._create_ready_picking()
        record = self._create_record(profile_id=profile.id, picking_id=picking.id)
        file_name = picking.name.replace("/", "-") + ".xml"

        info.cut_upload_after(1)  # the line drops during the upload
        self._run_cron("ir_cron_send", T0)
        self.assertEqual(info.cuts, 1, "the upload was really cut")
        self.assertEqual(record.state, "error", record.last_error)
        self.assertRegex(
            record.last_error, rf"{file_name}: \S", "the reason names the file and the cause"
        )
        self.assertEqual(record.attempt_count, 1)
        self.assertTrue(record.next_attempt_date, "a retry is scheduled")
        self.assertNotIn(file_name, info.files("in"), "no partial file under the final name")
        self.assertFalse(
            [name for name in info.files("in") if not name.endswith(".part")],
            "the carrier sees no file at all",
        )

        self._run_cron("ir_cron_send", T0 + timedelta(hours=2))  # the retry is due
        self.assertEqual(record.state, "sent", record.last_error)
        self.assertFalse(record.last_error)
        self.assertEqual(info.files("in"), [file_name], "one complete file, no leftovers")
        delivered = (info.root / "in" / file_name).read_bytes()
        self.assertEqual(delivered, base64.b64decode(record.payload_attachment_ids.datas))

        self._run_cron("ir_cron_send", T0 + timedelta(hours=3))  # nothing is sent twice
        self.assertEqual(info.files("in"), [file_name])
        self.assertEqual(record.state, "sent")

    def test_ftp_connection_dropped_mid_upload(self):
        self._assert_cut_then_completed(self._start_ftp(), "ftp")

    def test_sftp_connection_dropped_mid_upload(self):
        self._assert_cut_then_completed(self._start_sftp(), "sftp")


@tagged("post_install", "-at_install")
class TestFaultsConfirmationFiles(ExchangeFaultCase):
    def setUp(self):
        super().setUp()
        self.info = self._start_ftp()
        self.profile = self._profile_for(self.info, "ftp")
        self.pickings = [self._create_ready_picking() for _i in range(3)]
        for picking in self.pickings:
            self._create_record(profile_id=self.profile.id, picking_id=picking.id, state="sent")

    def _incoming(self):
        return self.env["shipping.exchange.record"].search(
            [("direction", "=", "in"), ("profile_id", "=", self.profile.id)]
        )

    def _deliver(self, name, content):
        (self.info.root / "out" / name).write_bytes(content)

    def _fetch(self):
        self._run_cron("ir_cron_fetch_confirmations")
        self.env.invalidate_all()

    def _backorders(self):
        return self.env["stock.picking"].search_count(
            [("backorder_id", "in", [p.id for p in self.pickings])]
        )

    def test_same_confirmation_file_delivered_twice_is_applied_once(self):
        first = self.pickings[0]
        content = _xml((first.name, "00340434161094042557"))
        self._deliver("conf-1.xml", content)
        self._fetch()
        self._deliver("conf-1-again.xml", content)  # the carrier sends it again
        self._deliver("conf-1.xml", content)  # and once more under the first name
        self._fetch()
        self.assertFalse(self.profile.last_error)
        incoming = self._incoming()
        self.assertEqual(len(incoming), 1, "one incoming record for one content")
        self.assertEqual(first.state, "done")
        self.assertEqual(first.carrier_tracking_ref, "00340434161094042557")
        self.assertEqual(self._backorders(), 0)
        self.assertEqual(self.info.files("out"), [], "every copy was taken out of the folder")
        self.assertEqual(
            sorted(p.name for p in (self.info.root / "out" / "done").iterdir()),
            ["conf-1-again.xml", "conf-1.xml"],
        )

    def test_half_written_files_are_not_applied_until_complete(self):
        second, third = self.pickings[1], self.pickings[2]
        complete_two = _xml((second.name, "TRACK-2"))
        complete_three = _xml((third.name, "TRACK-3"))
        # still being uploaded under a temporary name, and one cut short without it
        self._deliver("conf-2.xml.part", complete_two[: len(complete_two) // 2])
        self._deliver("conf-3.xml", complete_three[: len(complete_three) // 2])
        self._fetch()

        self.assertEqual(second.state, "assigned", "a .part file is not read")
        self.assertIn("conf-2.xml.part", self.info.files("out"))
        self.assertEqual(third.state, "assigned", "a truncated file is not applied")
        [broken] = self._incoming()
        self.assertEqual(broken.file_name, "conf-3.xml")
        self.assertIn(broken.state, ("error", "failed"))
        self.assertTrue(broken.last_error, "the reason is on the record for a person")
        self.assertEqual(
            [p.name for p in (self.info.root / "out" / "error").iterdir()], ["conf-3.xml"]
        )

        # the uploads complete: the .part is renamed, the carrier sends conf-3 again whole
        (self.info.root / "out" / "conf-2.xml.part").unlink()
        self._deliver("conf-2.xml", complete_two)
        self._deliver("conf-3.xml", complete_three)
        self._fetch()
        self.assertEqual(second.state, "done")
        self.assertEqual(second.carrier_tracking_ref, "TRACK-2")
        self.assertEqual(third.state, "done")
        self.assertEqual(third.carrier_tracking_ref, "TRACK-3")
        self.assertEqual(len(self._incoming()), 3, "the broken copy plus the two complete")
        self.assertEqual(self._backorders(), 0)
        self._fetch()  # a later run: nothing new
        self.assertEqual(len(self._incoming()), 3)

    def test_hostile_xml_is_refused_with_the_reason_and_the_folder_goes_on(self):
        first = self.pickings[0]
        hostile = REPO / "tests/data/shipping/confirmations"
        xxe = (hostile / "xxe.xml").read_bytes().replace(b"WH/OUT/00001", first.name.encode())
        laughs = (hostile / "billion_laughs.xml").read_bytes()
        self._deliver("a-xxe.xml", xxe)
        self._deliver("b-laughs.xml", laughs)
        self._deliver("c-good.xml", _xml((first.name, "TRACK-1")))
        self._fetch()

        refused = self._incoming().filtered(lambda r: r.file_name != "c-good.xml")
        self.assertEqual(sorted(refused.mapped("file_name")), ["a-xxe.xml", "b-laughs.xml"])
        for record in refused:
            self.assertIn(record.state, ("error", "failed"), record.file_name)
            self.assertTrue(record.last_error, "the reason is on the record")
            self.assertNotIn("root:", record.last_error, "no local file was read")
        self.assertEqual(first.state, "done", "the good file after them is applied")
        self.assertEqual(first.carrier_tracking_ref, "TRACK-1")
        self.assertEqual(
            sorted(p.name for p in (self.info.root / "out" / "error").iterdir()),
            ["a-xxe.xml", "b-laughs.xml"],
        )
        self._fetch()  # a later run: nothing new, nothing applied twice
        self.assertEqual(len(self._incoming()), 3)

    def test_traversal_file_names_are_recorded_never_used_as_paths(self):
        first = self.pickings[0]
        content = _xml((first.name, "TRACK-EVIL"))
        for name in ("..\\..\\evil.xml", "a..b.xml"):
            self._deliver(name, content)
        self._fetch()
        self._fetch()  # the files stay where they are: a second run doubles nothing
        refused = self._incoming()
        self.assertEqual(len(refused), 2, "one record per unsafe file, not one per run")
        for record in refused:
            self.assertIn(record.state, ("error", "failed"))
            self.assertIn("unsafe file name", record.last_error)
        self.assertEqual(first.state, "assigned", "nothing from an unsafe file is applied")
        self.assertFalse((self.info.root / "evil.xml").exists())
        self.assertFalse((self.info.root.parent / "evil.xml").exists())
