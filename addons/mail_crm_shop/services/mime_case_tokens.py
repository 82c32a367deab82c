"""Case tokens in mail subjects: ``[#C-00042]`` found, normalised and added once."""

from __future__ import annotations

import re

from .errors import PermanentError

CASE_TOKEN_RE = re.compile(r"\[\s*#\s*C\s*-\s*(\d{1,12})\s*\]", re.IGNORECASE)
CASE_NUMBER_RE = re.compile(r"^\s*C\s*-\s*(\d{1,12})\s*$", re.IGNORECASE)
CASE_NUMBER_PADDING = 5  # as the ir.sequence "crm.shop.case": C-00042
REPLY_PREFIX_RE = re.compile(
    r"^(?:\s*(?:re|aw|antw|wg|fw|fwd|wtr|sv|vs|tr|rif|r)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)


def normalize_case_number(number: str | int) -> str:
    """Return ``number`` as the sequence writes it (``42``, ``"c-42"`` → ``"C-00042"``)."""
    if isinstance(number, int) and not isinstance(number, bool):
        digits = str(number)
    else:
        match = CASE_NUMBER_RE.match(str(number or ""))
        if not match:
            raise PermanentError(f"not a case number: {number!r}")
        digits = match.group(1)
    return f"C-{int(digits):0{CASE_NUMBER_PADDING}d}"


def extract_case_token(subject: str | None) -> str | None:
    """Return the case number of the first ``[#C-00042]`` token in ``subject``, or None.

    Spaces inside the token and any letter case are tolerated; the number comes back
    normalised (``[# c-42 ]`` → ``"C-00042"``).
    """
    match = CASE_TOKEN_RE.search(subject or "")
    return f"C-{int(match.group(1)):0{CASE_NUMBER_PADDING}d}" if match else None


def add_case_token(subject: str | None, number: str | int) -> str:
    """Return ``subject`` carrying the token of case ``number`` exactly once.

    Idempotent: a subject that already has this token is returned unchanged; another
    case's token is replaced. The token goes after reply prefixes (``AW: [#C-00042] …``).
    """
    number = normalize_case_number(number)
    subject = " ".join((subject or "").split())
    tokens = CASE_TOKEN_RE.findall(subject)
    if len(tokens) == 1 and extract_case_token(subject) == number:
        return subject
    subject = " ".join(CASE_TOKEN_RE.sub(" ", subject).split())
    prefix_match = REPLY_PREFIX_RE.match(subject)
    prefix = prefix_match.group(0).strip() + " " if prefix_match else ""
    rest = subject[prefix_match.end() :] if prefix_match else subject
    return f"{prefix}[#{number}] {rest}".strip()
