"""A faster ``email.policy.SMTP`` for parsing inbound mail with Odoo's gateway parser.

``mail.thread.message_parse`` reads the same few headers of a message dozens of times
(``Content-Type`` of every part, again for each question it asks). With the modern
policies each read parses the raw value anew into a header object. :data:`SMTP` is
``email.policy.SMTP`` whose parsed header objects are memoised by (name, raw value):
parsing is a pure function of both, and header objects are immutable strings, so the
result is the same, only cheaper. Nothing else of the policy differs.
"""

from __future__ import annotations

from email.policy import EmailPolicy
from functools import lru_cache

_MEMO_SIZE = 4096


class MemoizingPolicy(EmailPolicy):
    """``EmailPolicy`` with ``header_fetch_parse`` memoised for plain string values."""

    def header_fetch_parse(self, name, value):
        """Return the parsed header object of ``name: value`` (memoised)."""
        if type(value) is not str:  # already a header object, or a legacy Header
            return super().header_fetch_parse(name, value)
        return _fetch_parse(self, name, value)


@lru_cache(maxsize=_MEMO_SIZE)
def _fetch_parse(policy: MemoizingPolicy, name: str, value: str):
    return EmailPolicy.header_fetch_parse(policy, name, value)


#: ``email.policy.SMTP`` (CRLF line ends), memoising parsed headers.
SMTP = MemoizingPolicy(linesep="\r\n")
