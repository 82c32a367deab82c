"""Does a customer's reply to a review invitation read as a complaint?

Cheap and explainable on purpose: a list of negative words and phrases in German and
English, a short negation window ("nicht schlecht" is no complaint) and star ratings
written in the text ("1 Stern", "2/5", "2 von 5", "★☆☆☆☆"). Quoted text of our own
invitation (lines starting with ``>`` and everything after "On … wrote:" /
"Am … schrieb") is ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NEGATIVE_TERMS = (
    # German
    "enttäuscht",
    "enttäuschend",
    "enttäuschung",
    "schlecht",
    "mangelhaft",
    "ungenügend",
    "kaputt",
    "defekt",
    "beschädigt",
    "beschwerde",
    "reklamation",
    "reklamieren",
    "unverschämt",
    "frechheit",
    "betrug",
    "abzocke",
    "nie wieder",
    "nicht angekommen",
    "nicht erhalten",
    "fehlt",
    "falsch geliefert",
    "zurückschicken",
    "geld zurück",
    "erstattung",
    "katastrophe",
    "ärgerlich",
    "verärgert",
    "wütend",
    "miserabel",
    # English
    "disappointed",
    "disappointing",
    "bad",
    "terrible",
    "awful",
    "horrible",
    "broken",
    "damaged",
    "defective",
    "complaint",
    "never again",
    "worst",
    "scam",
    "fraud",
    "refund",
    "not received",
    "never arrived",
    "missing",
    "wrong item",
    "angry",
    "useless",
    "rubbish",
)
NEGATIONS = ("nicht", "kein", "keine", "keinen", "not", "no", "never", "nie")
COMPLAINT_MAX_STARS = 2

_QUOTE_HEADER = re.compile(
    r"^\s*(on\b.*\bwrote:|am\b.*\bschrieb\b.*:|-----\s*original|von:\s|from:\s)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\wäöüß]+", re.IGNORECASE)
_RATINGS = (
    re.compile(r"\b([0-5])\s*(?:/|von|of|out of)\s*5\b", re.IGNORECASE),
    re.compile(r"\b([0-5])\s*(?:sterne?n?|stars?)\b", re.IGNORECASE),
    re.compile(r"\b(ein|einen|one)\s*(?:stern|star)\b", re.IGNORECASE),
)
_WORD_NUMBERS = {"ein": 1, "einen": 1, "one": 1}


@dataclass(frozen=True, slots=True)
class Sentiment:
    """Result of reading one reply."""

    is_complaint: bool
    rating: int | None  # stars 0..5 if the text states one
    matched_terms: tuple[str, ...]


def own_text(text: str) -> str:
    """Return the customer's own words: quoted lines and quoted history removed."""
    lines = []
    for line in (text or "").splitlines():
        if _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        lines.append(line)
    return "\n".join(lines)


def find_rating(text: str) -> int | None:
    """Return the lowest star rating stated in ``text`` (0..5), or None."""
    ratings = []
    for line in text.splitlines():
        stars = [ch for ch in line if ch in "★☆✩⭐"]
        if len(stars) == 5:
            ratings.append(sum(ch in "★⭐" for ch in stars))
    for pattern in _RATINGS:
        for match in pattern.finditer(text):
            raw = match.group(1).lower()
            ratings.append(_WORD_NUMBERS.get(raw) or int(raw))
    return min(ratings) if ratings else None


def _negated(words: list[str], index: int) -> bool:
    return any(word in NEGATIONS for word in words[max(0, index - 2) : index])


def find_negative_terms(text: str) -> tuple[str, ...]:
    """Return the negative terms found in ``text``, skipping negated ones."""
    words = [unicodedata.normalize("NFC", w.lower()) for w in _WORD.findall(text)]
    found = []
    for term in NEGATIVE_TERMS:
        term_words = term.split()
        size = len(term_words)
        for index in range(len(words) - size + 1):
            if words[index : index + size] != term_words:
                continue
            if size == 1 and _negated(words, index):
                continue
            found.append(term)
            break
    return tuple(found)


def analyse(text: str) -> Sentiment:
    """Classify a reply: a low stated rating or any negative term is a complaint.

    A stated rating of 4 or 5 stars wins over negative words ("fast delivery, the old
    one was broken: 5/5"); a rating of 3 leaves the decision to the words.
    """
    own = own_text(text)
    rating = find_rating(own)
    terms = find_negative_terms(own)
    if rating is not None and rating <= COMPLAINT_MAX_STARS:
        return Sentiment(True, rating, terms)
    if rating is not None and rating >= 4:
        return Sentiment(False, rating, terms)
    return Sentiment(bool(terms), rating, terms)
