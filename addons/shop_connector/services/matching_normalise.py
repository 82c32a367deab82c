"""Normalised text for payment matching: reference keys, payer names, IBANs, e-mails.

Also the ISO 11649 check of structured creditor references (:func:`rf_is_valid`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

_OCR = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2",
                      "S": "5", "B": "8", "G": "6"})  # fmt: skip
NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_NAME_NOISE = frozenset(
    ("gmbh", "kg", "ag", "ug", "ohg", "gbr", "ev", "co", "mbh", "herr", "frau", "herrn",
     "dr", "prof", "und", "fa", "firma")
)  # fmt: skip
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# legal forms dropped from learned payer names (besides those in _NAME_NOISE); dotted
# spellings ("e. K.", "G.m.b.H.") are joined first, see payer_name_key
_LEGAL_FORMS = frozenset(
    ("ek", "ekfm", "eg", "kgaa", "se", "partg", "mbb", "haftungsbeschraenkt", "ltd",
     "limited", "inc", "llc", "bv", "sarl", "sa")
)  # fmt: skip
_DOTTED = re.compile(r"\b(?:[a-z]\.\s*){2,}")


def alnum_key(text: str) -> str:
    """``text`` upper-cased, keeping only ``A-Z`` and ``0-9``."""
    return NOT_ALNUM.sub("", text.upper())


def ocr_key(key: str) -> str:
    """``key`` with letters that look like digits (``O`` → ``0``, ``S`` → ``5``…) made digits."""
    return key.translate(_OCR)


def digit_keys(key: str) -> set[str]:
    """The number part of a reference, as written and without leading zeros."""
    digits = _NOT_DIGIT.sub("", key)
    keys = set()
    if len(digits) >= 5:
        keys.add(digits)
    stripped = digits.lstrip("0")
    if len(stripped) >= 5:
        keys.add(stripped)
    return keys


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> tuple[str, ...]:
    """Sorted, transliterated name tokens without legal forms and titles."""
    text = name.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    tokens = re.findall(r"[a-z]+", text)
    return tuple(sorted({t for t in tokens if t not in _NAME_NOISE and len(t) > 1}))


@lru_cache(maxsize=200_000)
def payer_name_key(name: str) -> tuple[str, ...]:
    """The key a learned payer name is remembered and looked up by.

    Case, umlauts and ß (``Müller`` = ``MUELLER``), accents, punctuation, whitespace, word
    order (``Müller, Hans`` = ``Hans Müller``), titles and legal forms (``GmbH``, ``e.K.``,
    ``UG (haftungsbeschränkt)``…) are ignored; initials are kept, so ``M. Schmidt`` and
    ``K. Schmidt`` stay apart. A name with no word of two letters or more has no key (``()``).
    """
    text = name.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _DOTTED.sub(lambda m: " " + re.sub(r"[^a-z]", "", m.group()) + " ", text)
    tokens = {
        t for t in re.findall(r"[a-z0-9]+", text) if t not in _NAME_NOISE and t not in _LEGAL_FORMS
    }
    if not any(len(t) > 1 for t in tokens):
        return ()
    return tuple(sorted(tokens))


def name_similarity(payer: str, customer: str) -> float:
    """0..1: how alike two person or company names are (order and umlauts ignored)."""
    a, b = name_tokens(payer), name_tokens(customer)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    common = len(set(a) & set(b))
    overlap = common / min(len(a), len(b)) if common else 0.0
    # a shared surname alone ("M. Schmidt" vs "Maria Schmidt") is strong but not certain
    shared = 0.85 * overlap
    matcher = difflib.SequenceMatcher(None, " ".join(a), " ".join(b))
    if matcher.real_quick_ratio() <= shared or matcher.quick_ratio() <= shared:
        return shared  # the ratio cannot be higher than these upper bounds
    return max(matcher.ratio(), shared)


def rf_is_valid(reference: str) -> bool:
    """ISO 11649 creditor reference check (``RF`` + 2 check digits, mod 97 == 1)."""
    ref = alnum_key(reference)
    if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", ref):
        return False
    moved = ref[4:] + ref[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def norm_iban(iban: str) -> str:
    """``iban`` without spaces, in upper case."""
    return iban.replace(" ", "").upper()


def norm_email(email: str) -> str:
    """``email`` without surrounding whitespace, in lower case."""
    return email.strip().lower()
