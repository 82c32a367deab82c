from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..adapters.imap import FetchedMessage, FolderState, ImapAdapter, ImapAuthError
from ..services.errors import PermanentError, TransientError
from .common import MailCrmShopCase

MAILBOX_LOGGER = "odoo.addons.mail_crm_shop.models.crm_shop_mailbox_sync"

DATA = Path(__file__).parent / "data"


def read_mail(name, **values):
    """A test mail from tests/data, ``{{key}}`` placeholders filled in."""
    raw = (DATA / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(b"{{%s}}" % key.encode(), value.encode())
    return raw


class FakeImapServer:
    """In-memory IMAP mailbox state behind :class:`FakeImap` (the one allowed fake)."""

    def __init__(self):
        self.folders = {}
        self.refuse_login = False
        self.down = False
        self.refuse_flags = False
        self.logins = 0

    def folder(self, name, uidvalidity=1000):
        return self.folders.setdefault(
            name, {"uidvalidity": uidvalidity, "messages": {}, "seen": set(), "next": 1}
        )

    def deliver(self, raw, folder="INBOX"):
        box = self.folder(folder)
        uid = box["next"]
        box["messages"][uid] = raw
        box["next"] += 1
        return uid

    def rebuild(self, folder="INBOX", uidvalidity=2000, first_uid=7):
        """The server renumbers a folder (new UIDVALIDITY), as after a migration."""
        box = self.folders[folder]
        messages = [box["messages"][uid] for uid in sorted(box["messages"])]
        box.update(uidvalidity=uidvalidity, messages={}, seen=set(), next=first_uid)
        for raw in messages:
            self.deliver(raw, folder)


class FakeImap:
    """Implements the methods of adapters.imap.ImapAdapter on a FakeImapServer."""

    def __init__(self, server):
        self.server = server

    def __enter__(self):
        if self.server.down:
            raise TransientError("IMAP connect: [Errno 111] Connection refused")
        if self.server.refuse_login:
            raise ImapAuthError("IMAP login refused for 'service': AUTHENTICATIONFAILED")
        self.server.logins += 1
        return self

    def __exit__(self, *exc):
        return False

    def _box(self, folder):
        if folder not in self.server.folders:
            raise PermanentError(f"IMAP folder {folder!r} does not exist")
        return self.server.folders[folder]

    def select(self, folder):
        box = self._box(folder)
        return FolderState(folder, box["uidvalidity"], box["next"], len(box["messages"]))

    def search_uids(self, folder, min_uid):
        return sorted(uid for uid in self._box(folder)["messages"] if uid >= min_uid)

    def fetch(self, folder, uids, batch_size=200):
        box = self._box(folder)
        for uid in sorted(uids):
            if uid in box["messages"]:
                yield FetchedMessage(
                    uid, box["messages"][uid], (), datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
                )

    def set_seen(self, folder, uids, seen):
        box = self._box(folder)
        if self.server.refuse_flags:
            raise TransientError("IMAP flag messages: connection lost")
        box["seen"].update(uids) if seen else box["seen"].difference_update(uids)

    def append(self, folder, raw, seen=True):
        return self.server.deliver(raw, folder)


def real_imap_adapter(mailbox):
    """The mailbox's real adapter factory, bypassing the fake installed by setUp."""
    return MailIngestCommon._real_get_imap_adapter(mailbox)


class MailIngestCommon(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailbox = cls.env["crm.shop.mailbox"].create(
            {
                "name": "Kundenservice",
                "email": "service@shop.test",
                "host": "imap.shop.test",
                "login": "service",
                "password": "secret",
                "queue_id": cls.queue.id,
                "user_id": cls.manager.id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Jürgen Müller", "email": "juergen.mueller@example.de"}
        )

    def setUp(self):
        super().setUp()
        self.server = FakeImapServer()
        self.server.folder("INBOX")
        server = self.server
        Mailbox = type(self.env["crm.shop.mailbox"])
        MailIngestCommon._real_get_imap_adapter = Mailbox._get_imap_adapter
        patcher = patch.object(Mailbox, "_get_imap_adapter", lambda mailbox: FakeImap(server))
        patcher.start()
        self.addCleanup(patcher.stop)

    def _run_cron(self, xmlid):
        cron = self.env.ref(xmlid)
        with self.enter_registry_test_mode():
            result = cron.method_direct_trigger()
        self.assertIs(result, True, "the cron raised")

    def _sync(self):
        self._run_cron("mail_crm_shop.ir_cron_sync_mailboxes")

    def _process(self):
        self._run_cron("mail_crm_shop.ir_cron_process_inbound_mail")

    def _inbound(self):
        return self.env["crm.shop.inbound.mail"].search([("mailbox_id", "=", self.mailbox.id)])

    def _cases(self):
        return self.env["crm.shop.case"].search([("mailbox_id", "=", self.mailbox.id)])

    def _receive(self, raw):
        """Deliver ``raw``, sync and process it; return its inbound record."""
        self.server.deliver(raw)
        self._sync()
        self._process()
        return self._inbound()[:1]

    def _receive_new(self, raw, user=None):
        """Deliver, sync and process ``raw`` (as ``user`` if given, else by the cron);
        return the one inbound record it made (done)."""
        before = self._inbound()
        self.server.deliver(raw)
        self._sync()
        if user:
            (self._inbound() - before).with_user(user)._process()
        else:
            self._process()
        inbound = self._inbound() - before
        self.assertEqual(len(inbound), 1)
        self.assertEqual(inbound.state, "done", inbound.last_error)
        return inbound


@tagged("post_install", "-at_install")
class TestMailIngest(MailIngestCommon):
    def test_mail_is_stored_and_flagged_seen_before_it_is_processed(self):
        uid = self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        inbound = self._inbound()
        self.assertEqual(len(inbound), 1)
        self.assertEqual(inbound.state, "pending")
        self.assertEqual((inbound.folder, inbound.uidvalidity, inbound.uid), ("INBOX", "1000", uid))
        self.assertEqual(inbound.message_id, "<question-1042@mail.example.de>")
        self.assertEqual(inbound._get_raw(), read_mail("customer_question.eml"))
        self.assertIn(uid, self.server.folders["INBOX"]["seen"])
        self.assertFalse(self._cases())
        self.assertEqual(self.mailbox.state, "ok")
        self.assertEqual(self.mailbox.folder_state_ids.last_uid, uid)

    def test_mail_becomes_a_case_with_attachments_charset_and_contact(self):
        inbound = self._receive(read_mail("customer_question.eml"))
        self.assertEqual(inbound.state, "done")
        case = inbound.case_id
        self.assertEqual(case.name, "Lieferung für Bestellung 1042 verspätet")
        self.assertEqual(case.queue_id, self.queue)
        self.assertEqual(case.partner_id, self.customer, "matched case-insensitively")
        message = case.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(len(message), 1)
        self.assertIn("Grüße, Jürgen", str(message.body))
        self.assertEqual(message.author_id, self.customer)
        names = set(message.attachment_ids.mapped("name"))
        self.assertIn("Rechnung-1042.pdf", names)
        self.assertIn("logo.png", names)
        self.assertNotIn("cid:logo@example.de", str(message.body), "inline image is linked")
        self.assertFalse(case.is_auto_reply)

    def _sync_expecting_failure(self):
        """A failing sync is logged as a warning; assert it (and keep the log clean)."""
        with self.assertLogs(MAILBOX_LOGGER, level="WARNING") as logs:
            self._sync()
        self.assertIn("sync failed", logs.output[0])

    def test_mails_stay_stored_when_flagging_them_seen_fails(self):
        self.server.refuse_flags = True
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync_expecting_failure()
        self.assertEqual(self.mailbox.state, "error")
        self.assertEqual(len(self._inbound()), 1, "stored and committed before flagging")
        self.server.refuse_flags = False
        self._sync()
        self._process()
        self.assertEqual(self.mailbox.state, "ok")
        self.assertEqual(len(self._cases()), 1)
        self.assertEqual(
            self.server.folder("INBOX")["seen"], {1}, "the next sync flags what was left"
        )

    def test_real_adapter_gets_the_mailbox_settings(self):
        self.mailbox.write({"host": "imap.example.de", "port": 143, "security": "starttls"})
        adapter = real_imap_adapter(self.mailbox.with_user(self.agent))
        self.assertIsInstance(adapter, ImapAdapter)
        settings = adapter.settings
        self.assertEqual(
            (settings.host, settings.port, settings.security, settings.login),
            ("imap.example.de", 143, "starttls", "service"),
        )
        self.assertEqual(settings.password, "secret", "read as superuser, not as the agent")

    def test_mark_seen_off_leaves_the_server_untouched(self):
        self.mailbox.mark_seen = False
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        self.assertEqual(len(self._inbound()), 1)
        self.assertFalse(self.server.folders["INBOX"]["seen"])

    def test_same_uid_twice_is_stored_once(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        self.mailbox.folder_state_ids.write({"last_uid": 0})  # as if the state was lost
        self._sync()
        self._process()
        self.assertEqual(len(self._inbound()), 1)
        self.assertEqual(len(self._cases()), 1)

    def test_new_uidvalidity_resyncs_without_duplicates(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self.server.deliver(read_mail("no_message_id.eml"))
        self._sync()
        self._process()
        self.server.rebuild(uidvalidity=2000, first_uid=7)
        self.server.deliver(read_mail("customer_reply_token.eml", case_number="X-1", variant="a"))
        self._sync()
        self._process()
        self.assertEqual(len(self._inbound()), 3)
        self.assertEqual(len(self._cases()), 3)
        state = self.mailbox.folder_state_ids
        self.assertEqual((state.uidvalidity, state.last_uid), ("2000", 9))
        new = self._inbound().filtered(lambda r: r.uidvalidity == "2000")
        self.assertEqual(new.uid, 9)

    def test_batch_size_limits_one_run_and_the_next_run_continues(self):
        for variant in "abc":
            self.server.deliver(
                read_mail("customer_reply_token.eml", case_number="X-1", variant=variant)
            )
        cron = self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")
        cron.code = "model._cron_sync(batch_size=2)"
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self._sync()
        self.assertEqual(len(self._inbound()), 2)
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers,
            "a full batch asks for another run soon",
        )
        self._sync()
        self.assertEqual(sorted(self._inbound().mapped("uid")), [1, 2, 3])

    def test_login_refused_is_recorded_on_the_mailbox_and_mail_stays_pending(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        self.server.refuse_login = True
        self.server.deliver(read_mail("no_message_id.eml"))
        self._sync_expecting_failure()
        self.assertEqual(self.mailbox.state, "error")
        self.assertIn("AUTHENTICATIONFAILED", self.mailbox.last_error)
        self.assertEqual(self._inbound().state, "pending")
        self.server.refuse_login = False
        self._sync()
        self.assertEqual(self.mailbox.state, "ok")
        self.assertFalse(self.mailbox.last_error)
        self.assertEqual(len(self._inbound()), 2)

    def test_host_down_ends_the_batch_of_that_mailbox_only(self):
        other_server = FakeImapServer()
        other_server.folder("INBOX")
        other_server.deliver(read_mail("no_message_id.eml"))
        other = self.mailbox.copy({"name": "Marktplatz", "email": "market@shop.test"})
        self.server.down = True
        Mailbox = type(self.env["crm.shop.mailbox"])
        servers = {self.mailbox.id: self.server, other.id: other_server}
        with patch.object(Mailbox, "_get_imap_adapter", lambda mb: FakeImap(servers[mb.id])):
            self._sync_expecting_failure()
        self.assertEqual(self.mailbox.state, "error")
        self.assertIn("Connection refused", self.mailbox.last_error)
        self.assertEqual(other.state, "ok")
        self.assertEqual(
            self.env["crm.shop.inbound.mail"].search_count([("mailbox_id", "=", other.id)]), 1
        )

    def test_missing_folder_is_an_error_on_the_mailbox(self):
        self.mailbox.folder_names = "INBOX, Archiv"
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync_expecting_failure()
        self.assertEqual(self.mailbox.state, "error")
        self.assertIn("Archiv", self.mailbox.last_error)
        self.assertEqual(len(self._inbound()), 1, "INBOX was stored before the failure")

    def test_processing_failure_is_kept_then_a_later_run_succeeds(self):
        start = fields_now_plus(minutes=1).replace(microsecond=0)
        with freeze_time(start):
            self.server.deliver(read_mail("customer_question.eml"))
            self._sync()
            self.queue.active = False
            self._process()
        inbound = self._inbound()
        self.assertEqual(inbound.state, "error")
        self.assertEqual(inbound.attempt_count, 1)
        self.assertIn("archived", inbound.last_error)
        self.assertEqual(inbound.next_attempt_date, start + timedelta(minutes=5))
        self.assertFalse(inbound.case_id)
        self.queue.active = True
        with freeze_time(start + timedelta(minutes=1)):
            self._process()
        self.assertEqual(inbound.state, "error", "not due yet")
        with freeze_time(start + timedelta(minutes=6)):
            self._process()
        self.assertEqual(inbound.state, "done")
        self.assertEqual(len(inbound.case_id), 1)
        self.assertFalse(inbound.last_error)

    def test_last_attempt_fails_posts_once_and_retry_resets(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self._sync()
        inbound = self._inbound()
        inbound.write({"attempt_count": 4})
        self.queue.active = False
        self._process()
        self.assertEqual(inbound.state, "failed")
        self.assertFalse(inbound.next_attempt_date)
        notes = inbound.message_ids.filtered(lambda m: "could not be turned" in str(m.body))
        self.assertEqual(len(notes), 1)
        self.assertEqual(inbound.activity_ids.user_id, self.manager)
        self.queue.active = True
        inbound.action_retry()
        self.assertEqual((inbound.state, inbound.attempt_count), ("pending", 0))
        self.assertFalse(inbound.activity_ids)
        self._process()
        self.assertEqual(inbound.state, "done")

    def test_unreadable_bytes_become_a_flagged_case_with_the_original(self):
        raw = read_mail("unreadable.bin")
        inbound = self._receive(raw)
        self.assertEqual(inbound.state, "done")
        case = inbound.case_id
        self.assertTrue(case.mail_parse_failed)
        self.assertEqual(case.activity_ids.user_id, self.manager)
        attachment = case.message_ids.attachment_ids
        self.assertEqual(attachment.name, "original-mail.eml")
        self.assertEqual(attachment.raw, raw)

    def test_empty_message_becomes_a_flagged_case(self):
        inbound = self._receive(b"")
        self.assertEqual(inbound.state, "done")
        self.assertTrue(inbound.case_id.mail_parse_failed)

    def test_sync_now_asks_the_cron_to_run(self):
        cron = self.env.ref("mail_crm_shop.ir_cron_sync_mailboxes")
        action = self.mailbox.with_user(self.manager).action_sync_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))

    def test_agents_cannot_read_stored_mail_but_their_replies_are_filed(self):
        case = self._receive(read_mail("customer_question.eml")).case_id
        with self.assertRaises(AccessError):
            self._inbound().with_user(self.agent).check_access("read")
        reply = (
            case.with_user(self.agent)
            .sudo(False)
            .message_post(
                body="Kommt morgen.",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.customer.ids,
            )
        )
        self.assertTrue(reply.subject.startswith(f"[#{case.number}]"))
        self.assertTrue(self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)]))

    def test_reply_from_a_case_gets_the_token_and_lands_in_sent(self):
        inbound = self._receive(read_mail("customer_question.eml"))
        case = inbound.case_id
        reply = case.message_post(
            body="Ihre Sendung ist unterwegs.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )
        self.assertIn(f"[#{case.number}]", reply.subject)
        outgoing = self.env["mail.mail"].search([("mail_message_id", "=", reply.id)])
        self.assertTrue(outgoing)
        self.assertEqual(outgoing.subject, reply.subject)
        self.assertIn("service@shop.test", reply.reply_to)
        sent = self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)])
        self.assertEqual(sent.state, "pending")
        self.server.down = True
        self._run_cron("mail_crm_shop.ir_cron_append_sent_mail")
        self.assertEqual((sent.state, sent.attempt_count), ("error", 1))
        self.server.down = False
        with freeze_time(fields_now_plus(minutes=10)):
            self._run_cron("mail_crm_shop.ir_cron_append_sent_mail")
        self.assertEqual(sent.state, "done")
        copy = self.server.folders["Sent"]["messages"]
        self.assertEqual(len(copy), 1)
        raw = next(iter(copy.values()))
        self.assertIn(f"[#{case.number}]".encode(), raw)
        self.assertIn(reply.message_id.encode(), raw)

    def test_sent_copy_failing_for_good_asks_the_responsible(self):
        case = self._receive(read_mail("customer_question.eml")).case_id
        reply = case.message_post(
            body="Gutschrift folgt.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.customer.ids,
        )
        sent = self.env["crm.shop.sent.mail"].search([("message_id", "=", reply.id)])
        sent.attempt_count = 4
        self.server.refuse_login = True
        self._run_cron("mail_crm_shop.ir_cron_append_sent_mail")
        self.assertEqual(sent.state, "failed")
        self.assertIn("AUTHENTICATIONFAILED", sent.last_error)
        self.assertEqual(sent.activity_ids.user_id, self.manager)
        self.server.refuse_login = False
        sent.action_retry()
        self._run_cron("mail_crm_shop.ir_cron_append_sent_mail")
        self.assertEqual(sent.state, "done")
        self.assertFalse(sent.activity_ids)

    def test_internal_note_is_neither_tokenised_nor_queued(self):
        case = self._receive(read_mail("customer_question.eml")).case_id
        note = case.message_post(body="intern", subtype_xmlid="mail.mt_note")
        self.assertFalse(note.subject)
        self.assertFalse(self.env["crm.shop.sent.mail"].search([("case_id", "=", case.id)]))


def fields_now_plus(**delta):
    return datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(**delta)
