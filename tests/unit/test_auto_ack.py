from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from shopaddons.mail_crm_shop.services import auto_ack
from shopaddons.mail_crm_shop.services.auto_ack import (
    AckDecision,
    AckInput,
    decide_ack,
    is_own_address,
    normalize_address,
    suppress_requested,
)

NOW = datetime(2026, 3, 2, 12, 0)
OWN = ("service@shop.test", "catchall@shop.test")
CUSTOMER = AckInput(
    sender="Erika@Kunde.Example",
    is_auto_reply=False,
    is_bounce=False,
    suppress_auto_response=False,
    own_addresses=OWN,
    last_ack_date=None,
    now=NOW,
    throttle_hours=24,
)


def test_a_customer_mail_is_acknowledged():
    decision = decide_ack(CUSTOMER)
    assert decision == AckDecision(True, auto_ack.SENT)
    send, reason = decision  # a (send, reason) pair
    assert (send, reason) == (True, "sent")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sender": None}, auto_ack.NO_SENDER),
        ({"sender": "   "}, auto_ack.NO_SENDER),
        ({"sender": "erika"}, auto_ack.INVALID_SENDER),
        ({"sender": "erika@"}, auto_ack.INVALID_SENDER),
        ({"sender": "@kunde.example"}, auto_ack.INVALID_SENDER),
        ({"sender": "erika@localhost"}, auto_ack.INVALID_SENDER),
        ({"sender": "erika muster@kunde.example"}, auto_ack.INVALID_SENDER),
        ({"sender": "a@b@kunde.example"}, auto_ack.INVALID_SENDER),
        ({"is_bounce": True, "is_auto_reply": True}, auto_ack.BOUNCE),
        ({"is_auto_reply": True}, auto_ack.AUTO_REPLY),
        ({"suppress_auto_response": True}, auto_ack.SUPPRESSED),
        ({"sender": "SERVICE@shop.test"}, auto_ack.OWN_ADDRESS),
        ({"sender": "service+c-00042@shop.test"}, auto_ack.OWN_ADDRESS),
        ({"sender": "catchall@SHOP.test"}, auto_ack.OWN_ADDRESS),
        ({"sender": "MAILER-DAEMON@mx.kunde.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "postmaster@kunde.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "no-reply@marketplace.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "noreply@marketplace.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "No_Reply@marketplace.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "donotreply@bank.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "do-not-reply@bank.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "noreply-orders@marketplace.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender": "bounces+123@lists.example"}, auto_ack.SYSTEM_SENDER),
        ({"sender_is_internal": True}, auto_ack.INTERNAL_SENDER),
        ({"last_ack_date": NOW - timedelta(hours=23, minutes=59)}, auto_ack.THROTTLED),
        ({"last_ack_date": NOW}, auto_ack.THROTTLED),
    ],
)
def test_no_acknowledgement_and_why(changes, reason):
    assert decide_ack(replace(CUSTOMER, **changes)) == AckDecision(False, reason)


@pytest.mark.parametrize(
    "sender",
    [
        "replyto@kunde.example",  # "reply" alone is no system sender
        "noreen@kunde.example",
        "postmasters@kunde.example",  # a suffix needs a separator
        "service@other.test",  # same local part, another domain
        "servicedesk@shop.test",
        "info+service@shop.test",
    ],
)
def test_lookalikes_of_system_or_own_addresses_are_acknowledged(sender):
    assert decide_ack(replace(CUSTOMER, sender=sender)) == AckDecision(True, auto_ack.SENT)


def test_throttle_window_ends_after_the_configured_hours():
    after = replace(CUSTOMER, last_ack_date=NOW - timedelta(hours=24))
    assert decide_ack(after) == AckDecision(True, auto_ack.SENT)
    short = replace(CUSTOMER, last_ack_date=NOW - timedelta(hours=3), throttle_hours=2)
    assert decide_ack(short).send is True


def test_throttle_zero_acknowledges_every_new_case():
    again = replace(CUSTOMER, last_ack_date=NOW, throttle_hours=0)
    assert decide_ack(again) == AckDecision(True, auto_ack.SENT)


def test_automatic_mail_wins_over_throttle_and_address_checks():
    facts = replace(
        CUSTOMER,
        sender="mailer-daemon@mx.kunde.example",
        is_auto_reply=True,
        last_ack_date=NOW,
    )
    assert decide_ack(facts).reason == auto_ack.AUTO_REPLY


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (" Erika@Kunde.Example ", "erika@kunde.example"),
        ("Erika Muster <erika@kunde.example>", None),  # one bare address only
        ("", None),
        (None, None),
    ],
)
def test_normalize_address(address, expected):
    assert normalize_address(address) == expected


def test_own_address_ignores_empty_and_broken_own_entries():
    assert is_own_address("erika@kunde.example", ("", "broken", "@")) is False
    assert is_own_address("info@shop.test", ("INFO@Shop.Test",)) is True


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"x-auto-response-suppress": ["All"]}, True),
        ({"x-auto-response-suppress": ["OOF, AutoReply"]}, True),
        ({"x-auto-response-suppress": ["None"]}, False),
        ({"x-auto-response-suppress": ["  "]}, False),
        ({"list-id": ["Kunden <kunden.googlegroups.example>"]}, True),
        ({"list-id": [""]}, False),
    ],
)
def test_suppress_requested(headers, expected):
    assert suppress_requested(headers) is expected
