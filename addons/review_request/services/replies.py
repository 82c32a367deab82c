"""Recognise automatic answers to an invitation (out of office, auto-reply).

The mail gateway hands us the parsed subject only, so this looks at the subject
prefixes and phrases mail clients use for automatic replies in German and English.
"""

from __future__ import annotations

import re

_AUTO_REPLY = re.compile(
    r"^\s*(auto(matic|matische)?[ -]?(reply|response|antwort)|automatische antwort|"
    r"abwesenheit(snotiz)?\b|out of (the )?office\b|ooo:)",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^\s*((re|aw|wg|fw|fwd)\s*:\s*)+", re.IGNORECASE)


def is_auto_reply(subject: str) -> bool:
    """True if ``subject`` reads as an automatic reply rather than a customer's words."""
    text = _PREFIX.sub("", subject or "")
    return bool(_AUTO_REPLY.match(text))
