"""IDLE waits for a new mail or the timeout, not for the first wake-up of the socket."""

import time

from shopaddons.mail_crm_shop.adapters.imap import _idle_until_new_mail


class FakeIdleClient:
    """``idle_check`` answers from a script: a list per call, or a pause (seconds)."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = []

    def idle_check(self, timeout):
        self.calls.append(timeout)
        step = self.script.pop(0) if self.script else timeout
        if isinstance(step, (int, float)):  # nothing arrives: the poll times out
            time.sleep(min(step, timeout))
            return []
        return step


def test_a_wakeup_without_a_new_mail_waits_on():
    # a late TLS record (nothing to read), then a flags change, then the new mail
    client = FakeIdleClient([[], [(3, b"FETCH", (b"FLAGS", ()))], [(4, b"EXISTS")]])
    responses = _idle_until_new_mail(client, timeout=5)
    assert (4, b"EXISTS") in responses
    assert len(client.calls) == 3


def test_nothing_but_other_responses_ends_at_the_timeout():
    client = FakeIdleClient([[(b"OK", b"Still here")], 0.3])
    started = time.monotonic()
    responses = _idle_until_new_mail(client, timeout=0.2)
    assert responses == [(b"OK", b"Still here")]
    assert time.monotonic() - started < 2


def test_a_connection_gone_stops_waiting_instead_of_spinning():
    client = FakeIdleClient([[]] * 50)  # EOF: readable at once, nothing to read, forever
    started = time.monotonic()
    assert _idle_until_new_mail(client, timeout=30) == []
    assert len(client.calls) == 3
    assert time.monotonic() - started < 1


def test_each_check_waits_only_for_the_time_left():
    client = FakeIdleClient([[], 1.0])
    _idle_until_new_mail(client, timeout=0.3)
    assert client.calls[0] <= 0.3
    assert client.calls[1] < client.calls[0]
