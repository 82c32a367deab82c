"""The team inbox against a REAL IMAP server: Debian's dovecot on 127.0.0.1.

The server is the one of the integration suite (``tests/integration/servers/imap.py`` at
the repository root), loaded by path so that its configuration exists once. Syncs go
through the mailbox's real ``ImapAdapter``; nothing is faked.
"""

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

from odoo.tests import tagged

from .common import MailCrmShopCase

REPO = Path(__file__).resolve().parents[3]
SERVER_MODULE = REPO / "tests/integration/servers/imap.py"
CORPUS = REPO / "tests/data/mail"
DATA = Path(__file__).parent / "data"
MAILBOX_LOGGER = "odoo.addons.mail_crm_shop.models.crm_shop_mailbox_sync"


def _load_server_module():
    """The integration suite's dovecot fixture module, loaded from its file."""
    if not SERVER_MODULE.is_file():
        raise FileNotFoundError(
            f"{SERVER_MODULE} is missing: these tests need the repository's tests/ folder "
            "beside addons/ (they start the integration suite's dovecot)"
        )
    name = "shop_backoffice_imap_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SERVER_MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _normalized(raw):
    """``raw`` with CRLF line ends, as IMAP APPEND stores it."""
    return bytes(raw).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _read_mail(name, **values):
    raw = (DATA / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(b"{{%s}}" % key.encode(), value.encode())
    return raw


@tagged("post_install", "-at_install")
class TestImapDovecot(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.imap = _load_server_module()
        if not Path(cls.imap.DOVECOT).exists():
            raise FileNotFoundError(f"{cls.imap.DOVECOT} is missing: install dovecot-imapd")
        cls.corpus = sorted(CORPUS.glob("*.eml"))
        if len(cls.corpus) < 10:
            raise FileNotFoundError(f"the mail corpus {CORPUS} is missing or incomplete")
        cls.customer = cls._create_partner(name="Jürgen Müller", email="juergen.mueller@example.de")

    def setUp(self):
        super().setUp()
        root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        root.chmod(0o755)
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        self.server = self.imap.DovecotServer(root=root, port=self.imap._free_port())
        self.server.setup()
        self.server.start()
        self.addCleanup(self.server.stop)
        self.mailbox = self.env["crm.shop.mailbox"].create(
            {
                "name": "Kundenservice",
                "email": "service@shop.test",
                "host": self.server.host,
                "port": self.server.port,
                "security": "none",
                "login": "shop",
                "password": self.server.users["shop"],
                "sent_folder_name": "Sent",
                "queue_id": self.queue.id,
                "user_id": self.manager.id,
            }
        )

    # --- helpers ---------------------------------------------------------------

    def _run_cron(self, xmlid, code=None):
        cron = self.env.ref(xmlid)
        if code:
            cron.code = code
        with self.enter_registry_test_mode():
            result = cron.method_direct_trigger()
        self.assertIs(result, True, "the cron raised")
        self.env.invalidate_all()

    def _sync(self, batch_size=200):
        self._run_cron(
            "mail_crm_shop.ir_cron_sync_mailboxes", f"model._cron_sync(batch_size={batch_size})"
        )

    def _sync_while_down(self):
        """A sync that cannot reach the server logs a warning: assert it."""
        with self.assertLogs(MAILBOX_LOGGER, "WARNING") as logs:
            self._sync()
        self.assertIn("sync failed", logs.output[0])
        self.assertEqual(self.mailbox.state, "error")
        self.assertTrue(self.mailbox.last_error)

    def _process(self):
        self._run_cron("mail_crm_shop.ir_cron_process_inbound_mail")

    def _inbound(self):
        return self.env["crm.shop.inbound.mail"].search([("mailbox_id", "=", self.mailbox.id)])

    def _deliver_corpus(self):
        return {self.server.deliver(path.read_bytes()): path.name for path in self.corpus}

    def _assert_corpus_stored_once(self):
        inbound = self._inbound()
        raws = [_normalized(mail._get_raw()) for mail in inbound]
        expected = {_normalized(path.read_bytes()) for path in self.corpus}
        self.assertEqual(len(raws), len(set(raws)), "no mail is stored twice")
        self.assertEqual(set(raws), expected, "every mail of the server is stored")
        self.assertEqual(len(set(inbound.mapped("dedupe_key"))), len(inbound))
        return inbound

    def _uids_in(self, folder, criteria="ALL"):
        conn = self.server.client()
        try:
            typ, _data = conn.select(folder, readonly=True)
            self.assertEqual(typ, "OK")
            typ, data = conn.uid("SEARCH", None, criteria)
            self.assertEqual(typ, "OK")
            return [int(uid) for uid in data[0].split()]
        finally:
            conn.logout()

    def _fetch(self, folder, uid):
        conn = self.server.client()
        try:
            conn.select(folder, readonly=True)
            typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            return data[0][1]
        finally:
            conn.logout()

    # --- tests -----------------------------------------------------------------

    def test_real_world_corpus_becomes_cases_and_is_flagged_seen(self):
        uids = self._deliver_corpus()
        self._sync()
        self.assertEqual(self.mailbox.state, "ok", self.mailbox.last_error)
        inbound = self._assert_corpus_stored_once()
        self.assertEqual(set(inbound.mapped("uid")), set(uids))
        self.assertEqual(self.mailbox.folder_state_ids.last_uid, max(uids))
        self.assertEqual(sorted(self._uids_in("INBOX", "SEEN")), sorted(uids))

        self._process()
        self.assertEqual(set(inbound.mapped("state")), {"done"}, inbound.mapped("last_error"))
        self.assertTrue(all(inbound.mapped("case_id")), "every mail is filed in a case")
        question = inbound.filtered(lambda m: uids[m.uid] == "01_plain_utf8_qp.eml").case_id
        self.assertEqual(question.mailbox_id, self.mailbox)
        self.assertEqual(question.queue_id, self.queue)
        auto = inbound.filtered(lambda m: uids[m.uid] == "08_outlook_autoreply.eml")
        self.assertTrue(auto.is_auto_reply)

        self._sync()  # nothing new on the server: nothing new here
        self.assertEqual(self._inbound(), inbound)

    def test_server_killed_between_batches_loses_and_duplicates_nothing(self):
        self._deliver_corpus()
        self._sync(batch_size=5)
        self.assertEqual(len(self._inbound()), 5)

        self.server.stop()
        self._sync_while_down()
        self.assertEqual(len(self._inbound()), 5, "what was stored stays stored")

        self.server.start()
        for _run in range(len(self.corpus)):  # one batch per run, as the cron would
            self._sync(batch_size=5)
            if len(self._inbound()) == len(self.corpus):
                break
        self.assertEqual(self.mailbox.state, "ok", self.mailbox.last_error)
        self._assert_corpus_stored_once()
        self._sync(batch_size=5)
        self._assert_corpus_stored_once()

    def test_server_killed_before_the_batch_is_flagged_seen(self):
        self._deliver_corpus()
        adapter_class = type(self.mailbox._get_imap_adapter())
        real_set_seen = adapter_class.set_seen
        server = self.server

        def crash_then_set_seen(adapter, folder, uids, seen):
            server.stop()  # the mails are committed; the server dies before \Seen
            return real_set_seen(adapter, folder, uids, seen)

        self.patch(adapter_class, "set_seen", crash_then_set_seen)
        self._sync_while_down()
        stored = self._inbound()
        self.assertEqual(len(stored), len(self.corpus), "the batch was committed first")

        self.patch(adapter_class, "set_seen", real_set_seen)
        self.server.start()
        self._sync()
        self.assertEqual(self.mailbox.state, "ok", self.mailbox.last_error)
        self._assert_corpus_stored_once()

    def test_changed_uidvalidity_brings_no_duplicate(self):
        self._deliver_corpus()
        self._sync()
        stored = self._assert_corpus_stored_once()
        old_uidvalidity = self.mailbox.folder_state_ids.uidvalidity

        self.server.stop()
        new_uidvalidity = self.server.change_uidvalidity()
        self.server.start()
        self._sync()
        self.assertEqual(self.mailbox.state, "ok", self.mailbox.last_error)
        self.assertNotEqual(old_uidvalidity, str(new_uidvalidity))
        self.assertEqual(self.mailbox.folder_state_ids.uidvalidity, str(new_uidvalidity))
        self.assertEqual(self._inbound(), stored, "the renumbered folder brings nothing new")

        raw = _read_mail("customer_question.eml")
        self.server.deliver(raw)
        self._sync()
        new = self._inbound() - stored
        self.assertEqual(len(new), 1)
        self.assertEqual(new.uidvalidity, str(new_uidvalidity))
        self.assertEqual(_normalized(new._get_raw()), _normalized(raw))

    def test_reply_is_filed_in_sent_and_the_answers_land_in_the_case(self):
        self.server.deliver(_read_mail("customer_question.eml"))
        self._sync()
        self._process()
        case = self._inbound().case_id
        self.assertEqual(len(case), 1)
        self.assertEqual(case.partner_id, self.customer)

        reply = case.message_post(
            body="Ihre Sendung ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )
        self.assertIn(f"[#{case.number}]", reply.subject)
        sent = self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)])
        self.assertEqual(sent.state, "pending")
        self._run_cron("mail_crm_shop.ir_cron_append_sent_mail")
        self.assertEqual(sent.state, "done", sent.last_error)
        (sent_uid,) = self._uids_in("Sent")
        copy = self._fetch("Sent", sent_uid)
        self.assertIn(f"[#{case.number}]".encode(), copy)
        self.assertIn(reply.message_id.encode(), copy)
        self.assertIn("\\Seen", self.server.flags(sent_uid, folder="Sent"))

        # the customer answers with the token in the subject
        self.server.deliver(
            _read_mail("customer_reply_token.eml", case_number=case.number, variant="dovecot")
        )
        # ... and once more from a client that dropped the token but kept the references
        self.server.deliver(
            _read_mail(
                "customer_reply_references.eml",
                parent_message_id=reply.message_id,
                variant="dovecot",
            )
        )
        self._sync()
        self._process()
        inbound = self._inbound()
        self.assertEqual(len(inbound), 3)
        self.assertEqual(set(inbound.mapped("state")), {"done"}, inbound.mapped("last_error"))
        self.assertEqual(inbound.case_id, case, "both answers joined the case")
        bodies = " ".join(
            str(body)
            for body in case.message_ids.filtered(lambda m: m.message_type == "email").mapped(
                "body"
            )
        )
        self.assertIn("Danke für die schnelle Antwort!", bodies)
        self.assertIn("Die Sendung ist jetzt da", bodies)
        self.assertEqual(
            self.env["crm.shop.case"].search_count([("mailbox_id", "=", self.mailbox.id)]), 1
        )
