import pytest

from shopaddons.mail_crm_shop.services.ingest_batch import (
    CaseRef,
    RoutingBatch,
    collect_lookups,
)
from shopaddons.mail_crm_shop.services.mail_routing import read_headers

QUESTION = (
    b"From: Kundin <Erika@Example.DE>\r\n"
    b"To: service@shop.test, Team <team@shop.test>\r\n"
    b"Cc: erika.privat@example.org\r\n"
    b"Subject: Frage\r\n"
    b"Message-ID: <q1@example.de>\r\n"
    b"\r\n"
    b"Hallo\r\n"
)
ANSWER = (
    b"From: erika@example.de\r\n"
    b"To: service@shop.test\r\n"
    b"Subject: AW: [#C-00042] Frage\r\n"
    b"Message-ID: <a1@example.de>\r\n"
    b"In-Reply-To: <ours@shop.test>\r\n"
    b"References: <q1@example.de> <ours@shop.test>\r\n"
    b"\r\n"
    b"Danke\r\n"
)


def test_read_headers_lists_the_recipients_lower_case_once():
    headers = read_headers(QUESTION)
    assert headers.recipients == ("service@shop.test", "team@shop.test", "erika.privat@example.org")
    assert read_headers(ANSWER).recipients == ("service@shop.test",)


def test_collect_lookups_gathers_every_key_of_the_batch_and_skips_unreadable():
    lookups = collect_lookups([read_headers(QUESTION), None, read_headers(ANSWER)])
    assert lookups.tokens == {"C-00042"}
    assert lookups.message_ids == {"<q1@example.de>", "<a1@example.de>", "<ours@shop.test>"}
    assert lookups.emails == {
        "erika@example.de",
        "service@shop.test",
        "team@shop.test",
        "erika.privat@example.org",
    }


def test_token_is_trusted_only_in_the_mailbox_company_or_without_company():
    batch = RoutingBatch()
    batch.add_cases([CaseRef(7, "C-00042", 2), CaseRef(8, "C-00042", None)])
    assert batch.case_for_token("C-00042", (1, None)) == 8
    assert batch.case_for_token("C-00042", (2, None)) == 7, "the search order decides"
    assert batch.case_for_token("C-00043", (1, None)) is None
    assert batch.case_for_token(None, (1, None)) is None


def test_direct_parent_wins_over_older_references():
    batch = RoutingBatch(case_by_message_id={"<q1@example.de>": 5, "<ours@shop.test>": 6})
    assert batch.case_for_references(read_headers(ANSWER)) == 6
    del batch.case_by_message_id["<ours@shop.test>"]
    assert batch.case_for_references(read_headers(ANSWER)) == 5
    assert batch.case_for_references(read_headers(QUESTION)) is None


def test_remembered_case_answers_later_mails_of_the_batch():
    batch = RoutingBatch()
    assert batch.case_for_message("<q1@example.de>") is None
    batch.remember("<q1@example.de>", CaseRef(9, "C-00042", 1))
    assert batch.case_for_message("<q1@example.de>") == 9
    assert batch.case_for_references(read_headers(ANSWER)) == 9
    assert batch.case_for_token("C-00042", (1, None)) == 9
    batch.remember("<a1@example.de>", CaseRef(9, "C-00042", 1))
    assert batch.cases_by_number["C-00042"] == [CaseRef(9, "C-00042", 1)], "listed once"
    batch.remember("<x@example.de>", None)
    assert batch.case_for_message("<x@example.de>") is None


@pytest.mark.parametrize(
    ("answers", "email", "partner", "answered"),
    [
        ({"erika@example.de": 3}, "erika@example.de", 3, True),
        ({"erika@example.de": None}, "erika@example.de", None, True),
        ({}, "erika@example.de", None, False),
        ({"erika@example.de": 3}, None, None, False),
    ],
)
def test_partner_answers_tell_unknown_from_not_looked_up(answers, email, partner, answered):
    batch = RoutingBatch(partner_by_email=answers)
    assert batch.partner_for(email) == partner
    assert batch.has_partner_answer(email) is answered


def test_asked_message_ids_tell_not_on_a_case_from_never_asked():
    batch = RoutingBatch()
    batch.add_messages(["<q1@example.de>", "<ours@shop.test>"], [("<ours@shop.test>", 6)])
    assert batch.was_asked("<q1@example.de>") and batch.case_for_message("<q1@example.de>") is None
    assert batch.case_for_message("<ours@shop.test>") == 6
    assert not batch.was_asked("<other@example.de>")
    assert not batch.was_asked(None)
    batch.add_messages(["<ours@shop.test>"], [("<ours@shop.test>", 7)])
    assert batch.case_for_message("<ours@shop.test>") == 6, "the first answer stays"
    batch.remember("<new@example.de>", CaseRef(9, "C-00009", None))
    assert batch.was_asked("<new@example.de>")


def test_staged_routing_counts_only_once_the_mail_is_done():
    batch = RoutingBatch()
    batch.stage(1, "<q1@example.de>", CaseRef(9, "C-00009", None))
    batch.stage(2, "<q2@example.de>", CaseRef(10, "C-00010", None))
    assert batch.case_for_message("<q1@example.de>") is None, "not before it is done"
    batch.confirm(1)
    batch.discard(2)
    assert batch.case_for_message("<q1@example.de>") == 9
    assert batch.case_for_message("<q2@example.de>") is None, "rolled back: forgotten"
    assert batch.case_for_token("C-00010", (None,)) is None
    batch.confirm(3)  # nothing staged: nothing happens
    assert batch.staged == {}


OTHER_QUESTION = QUESTION.replace(b"<q1@example.de>", b"<q2@example.de>")


def test_likely_new_cases_counts_mails_that_route_nowhere():
    batch = RoutingBatch()
    batch.headers = {1: read_headers(QUESTION), 2: None, 3: read_headers(OTHER_QUESTION)}
    assert batch.likely_new_cases([1, 2, 3]) == 2, "an unreadable mail draws no number"
    batch.remember("<q2@example.de>", CaseRef(4, "C-00040", 1))
    assert batch.likely_new_cases([1, 2, 3]) == 1, "a mail already on a case opens none"
    assert batch.likely_new_cases([2]) == 0


def test_likely_new_cases_skips_answers_to_a_case_or_to_the_batch():
    batch = RoutingBatch()
    # without a case token: only the references route it
    answer = ANSWER.replace(b"[#C-00042] ", b"")
    batch.headers = {1: read_headers(answer)}
    assert batch.likely_new_cases([1]) == 1, "it answers nothing known"
    batch.headers[2] = read_headers(QUESTION)
    assert batch.likely_new_cases([1]) == 0, "it answers a mail of the same batch"
    batch.headers = {1: read_headers(ANSWER)}
    assert batch.likely_new_cases([1]) == 1, "an unknown token routes nowhere"
    batch.add_cases([CaseRef(7, "C-00042", None)])
    assert batch.likely_new_cases([1]) == 0, "a known token routes to its case"
