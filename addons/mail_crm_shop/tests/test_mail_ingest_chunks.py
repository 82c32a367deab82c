"""Work done once per chunk or batch of inbound mails: archive appends, case numbers,
the parser's alias look-ups. The result must be what mail by mail gives."""

from itertools import pairwise
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.mail.models.mail_alias_domain import MailAliasDomain as CoreAliasDomain

from ..models import crm_shop_archive_entry_append as archive_append
from .test_mail_ingest import MailIngestCommon, read_mail
from .test_mail_ingest_batch import QUESTION_ID


def _other_question(index):
    return read_mail("customer_question.eml").replace(
        QUESTION_ID.encode(), f"<question-{index}@mail.example.de>".encode()
    )


@tagged("post_install", "-at_install")
class TestMailIngestChunks(MailIngestCommon):
    def test_stored_chunk_is_archived_entry_by_entry_in_one_append(self):
        for index in range(3):
            self.server.deliver(_other_question(index))
        Entry = type(self.env["crm.shop.archive.entry"])
        appends = []
        original = Entry._archive_raws

        def counting(model, items):
            appends.append(len(items))
            return original(model, items)

        with patch.object(Entry, "_archive_raws", counting):
            self._sync()
        self.assertEqual(appends, [3], "one append for the stored chunk")
        inbound = self._inbound().sorted("id")
        entries = self.env["crm.shop.archive.entry"].search(
            [("res_model", "=", "crm.shop.inbound.mail"), ("res_id", "in", inbound.ids)],
            order="sequence",
        )
        self.assertEqual(entries.mapped("res_id"), inbound.ids)
        self.assertEqual(
            entries.mapped("sequence"), list(range(entries[0].sequence, entries[0].sequence + 3))
        )
        for previous, entry in pairwise(entries):
            self.assertEqual(entry.prev_chain_hash, previous.chain_hash, "chained one by one")
        raws = entries._raw_bytes()
        for mail, entry in zip(inbound, entries, strict=True):
            self.assertEqual(raws[entry.id], mail._get_raw(), "the exact bytes of each mail")
        # a single append afterwards continues the same chain
        single = self.env["crm.shop.archive.entry"]._archive_raw(_other_question(9), "in")
        self.assertEqual(single.prev_chain_hash, entries[-1].chain_hash)
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        self.assertEqual(log.result, "ok")

    def test_large_appends_write_the_bytes_in_several_statements(self):
        raws = [_other_question(index) for index in range(3)]
        with patch.object(archive_append, "RAW_UPDATE_BYTES", len(raws[0]) + 1):
            entries = self.env["crm.shop.archive.entry"]._archive_raws(
                [(raw, "in", None, "default") for raw in raws]
            )
        self.assertEqual(len(entries), 3)
        stored = entries._raw_bytes()
        self.assertEqual([stored[entry.id] for entry in entries], raws)
        log = self.env["crm.shop.archive.access.log"]._verify_archive()
        self.assertEqual(log.result, "ok")

    def test_new_cases_of_a_batch_get_numbers_drawn_at_once_without_gaps(self):
        self.server.deliver(read_mail("customer_question.eml"))
        self.server.deliver(
            read_mail("customer_reply_references.eml", parent_message_id=QUESTION_ID, variant="a")
        )
        self.server.deliver(_other_question(2))
        self._sync()
        Inbound = type(self.env["crm.shop.inbound.mail"])
        reserved = []
        original = Inbound._reserve_case_numbers

        def counting(mail, count):
            numbers = original(mail, count)
            reserved.append(numbers)
            return numbers

        with patch.object(Inbound, "_reserve_case_numbers", counting):
            self._process()
        inbound = self._inbound().sorted("id")
        self.assertEqual(set(inbound.mapped("state")), {"done"}, inbound.mapped("last_error"))
        first, answer, other = inbound
        self.assertEqual(answer.case_id, first.case_id, "the answer opened no case")
        self.assertEqual(len(reserved), 1, "one draw for the batch")
        self.assertEqual(reserved[0], [first.case_id.number, other.case_id.number])
        # the numbers are the sequence's own, and the next one follows without a gap
        following = self.env["ir.sequence"].next_by_code("crm.shop.case")
        sequence = self.env.ref("mail_crm_shop.seq_crm_shop_case")
        prefix, suffix = sequence._get_prefix_suffix()
        numbers = [int(n.removeprefix(prefix).removesuffix(suffix)) for n in reserved[0]]
        self.assertEqual(following, sequence.get_next_char(numbers[-1] + 1))
        self.assertEqual(numbers[1], numbers[0] + 1)

    def test_alias_recipients_are_filtered_with_one_lookup_per_batch(self):
        domain = self.env["mail.alias.domain"].create(
            {"name": "shop.test", "catchall_alias": "catchall", "bounce_alias": "bounce"}
        )
        for index in range(2):
            self.server.deliver(
                _other_question(index).replace(
                    b"To: Kundenservice <service@shop.test>",
                    f"To: Kundenservice <service@shop.test>, {domain.catchall_email}".encode(),
                )
            )
        self._sync()
        calls = []
        original = CoreAliasDomain._find_aliases

        def counting(model, email_list):
            calls.append(list(email_list))
            return original(model, email_list)

        with patch.object(CoreAliasDomain, "_find_aliases", counting):
            self._process()
        inbound = self._inbound()
        self.assertEqual(set(inbound.mapped("state")), {"done"}, inbound.mapped("last_error"))
        self.assertEqual(len(calls), 1, "the same recipients are asked once per batch")
        messages = inbound.case_id.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(len(messages), 2)
        for message in messages:
            self.assertIn("service@shop.test", message.incoming_email_to)
            self.assertNotIn(domain.catchall_email, message.incoming_email_to, "an alias")
        # outside a batch nothing is kept: every call asks
        with patch.object(CoreAliasDomain, "_find_aliases", counting):
            for _ in range(2):
                self.env["mail.alias.domain"]._find_aliases(["service@shop.test"])
        self.assertEqual(len(calls), 3)
