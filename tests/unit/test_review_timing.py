from datetime import datetime, timedelta

import pytest

from shopaddons.review_request.services.timing import (
    BASIS_CONSENT,
    BASIS_EXISTING_CUSTOMER,
    DONE,
    INVITE,
    REMIND,
    WAIT,
    Progress,
    Step,
    decide_consent,
    decide_hold,
    next_step,
    scheduled_date,
)

SHIPPED = datetime(2026, 3, 2, 9, 0)
NOW = datetime(2026, 3, 10, 12, 0)


def test_scheduled_date_counts_from_delivery_when_known():
    assert scheduled_date(SHIPPED, None, 7) == datetime(2026, 3, 9, 9, 0)
    assert scheduled_date(SHIPPED, datetime(2026, 3, 4, 15, 0), 7) == datetime(2026, 3, 11, 15, 0)
    assert scheduled_date(None, None, 7) is None


def test_invite_once_due():
    due = datetime(2026, 3, 10, 9, 0)
    assert next_step(Progress(due), 5, NOW).action == INVITE
    step = next_step(Progress(due + timedelta(days=1)), 5, NOW)
    assert (step.action, step.due_date) == (WAIT, due + timedelta(days=1))


def test_reminder_after_m_days_unless_clicked():
    sent = NOW - timedelta(days=5)
    assert next_step(Progress(sent, sent_date=sent), 5, NOW).action == REMIND
    assert next_step(Progress(sent, sent_date=sent, clicked=True), 5, NOW).action == DONE
    step = next_step(Progress(sent, sent_date=sent), 6, NOW)
    assert (step.action, step.due_date) == (WAIT, sent + timedelta(days=6))


@pytest.mark.parametrize(
    "progress",
    [
        Progress(SHIPPED, sent_date=SHIPPED, reminder_sent_date=SHIPPED),
        Progress(SHIPPED, opted_out=True),
        Progress(SHIPPED, sent_date=SHIPPED, opted_out=True),
    ],
)
def test_never_more_than_invitation_and_one_reminder(progress):
    assert next_step(progress, 1, NOW + timedelta(days=365)).action == DONE


def test_no_reminder_configured():
    assert next_step(Progress(SHIPPED, sent_date=SHIPPED), 0, NOW).action == DONE


def test_not_delivered_yet_waits_without_date():
    assert next_step(Progress(None), 5, NOW) == Step(WAIT, None)


@pytest.mark.parametrize(
    ("kwargs", "allowed", "basis", "reason"),
    [
        ({"consented": True}, True, BASIS_CONSENT, ""),
        ({"consented": True, "opted_out": True}, False, None, "opted out"),
        ({"has_email": False, "consented": True}, False, None, "no e-mail"),
        ({}, False, None, "exception is off"),
        ({"existing_customer_allowed": True}, False, None, "not informed"),
        (
            {"existing_customer_allowed": True, "informed_at_collection": True},
            True,
            BASIS_EXISTING_CUSTOMER,
            "",
        ),
    ],
)
def test_consent(kwargs, allowed, basis, reason):
    values = {
        "has_email": True,
        "consented": False,
        "opted_out": False,
        "existing_customer_allowed": False,
        "informed_at_collection": False,
        **kwargs,
    }
    result = decide_consent(**values)
    assert (result.allowed, result.basis) == (allowed, basis)
    assert reason in result.reason


def test_hold_lists_every_reason():
    assert decide_hold(False, False, False, False).held is False
    hold = decide_hold(True, False, True, True)
    assert hold.held and hold.reasons == ("open case", "refund", "delivery problem")
