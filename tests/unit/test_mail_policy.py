from email import message_from_bytes, policy
from pathlib import Path

import pytest

from shopaddons.mail_crm_shop.services import mail_policy

CORPUS = sorted((Path(__file__).parents[1] / "data" / "mail").glob("*.eml"))


def _summary(message):
    """What a parser reads of a message: every part's headers, type, names and content."""
    parts = []
    for part in message.walk():
        headers = [(name, str(value)) for name, value in part.items()]
        content = None
        if not part.is_multipart():
            try:
                content = part.get_content()
            except (LookupError, UnicodeError, ValueError, KeyError, AttributeError) as exc:
                content = f"error: {type(exc).__name__}"
        parts.append(
            (
                headers,
                part.get_content_type(),
                part.get_filename(),
                part.get_param("charset"),
                content,
            )
        )
    return parts


@pytest.mark.parametrize("path", CORPUS, ids=[path.name for path in CORPUS])
def test_memoizing_policy_reads_every_mail_like_policy_smtp(path):
    raw = path.read_bytes()
    expected = _summary(message_from_bytes(raw, policy=policy.SMTP))
    assert _summary(message_from_bytes(raw, policy=mail_policy.SMTP)) == expected
    # read twice: the memoised header objects give the same answers again
    assert _summary(message_from_bytes(raw, policy=mail_policy.SMTP)) == expected


def test_memoizing_policy_is_smtp_otherwise():
    assert mail_policy.SMTP.linesep == "\r\n"
    assert mail_policy.SMTP.max_line_length == policy.SMTP.max_line_length
    assert mail_policy.SMTP.utf8 is False
    message = message_from_bytes(CORPUS[0].read_bytes(), policy=mail_policy.SMTP)
    assert message.get("Subject") is message.get("Subject"), "parsed once, then reused"
    assert (
        message.as_bytes()
        == message_from_bytes(CORPUS[0].read_bytes(), policy=policy.SMTP).as_bytes()
    )
