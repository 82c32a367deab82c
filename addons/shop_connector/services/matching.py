"""Explainable matching of incoming money to open orders and invoices.

Each transaction is scored against the open candidates it can plausibly belong to; every
point of a score comes with an :class:`Evidence` saying which rule gave it and why, so a
person can see at a glance why a payment was (or was not) matched.

Rules and their points (a score is capped to 0..100):

=========================  ======  ====================================================
rule                       points  when
=========================  ======  ====================================================
structured_reference         55    the candidate's RF creditor reference is in the purpose
reference_exact              50    order/invoice number, or the shop's own order number
                                   (``shop_refs``: "#900000", "WC-1234"), in the purpose
                                   (case, spaces, dashes and '#' ignored)
reference_mangled            35    found only after OCR-ish confusions (O/0, I/1, S/5…)
                                   or without its letter prefix / leading zeros
amount_equal                 30    amount equals the amount due
amount_within_tolerance      15    differs by at most the tolerance (needs a person)
amount_partial                5    less than due (partial payment, needs a person)
amount_overpaid               5    more than due (overpayment, needs a person; the
                                   evidence says by how much)
amount_converted             20    paid in another currency: converted at the rate of the
                                   payment day it fits the amount due within
                                   ``fx_tolerance_pct`` (always needs a person)
currency_differs              0    another currency and no rate, or it does not fit
collective_amount            30    several referenced candidates sum up to the amount
payer_known                  25    IBAN or PayPal e-mail known for the customer (on the
                                   partner or learned in ``known_payers``)
payer_name_learned           20    the payer's name paid for the customer before (learned
                                   names, see :func:`payer_name_key`); replaces payer_name
payer_name                 8..15   payer name resembles the customer's (fuzzy)
date_plausible                5    paid from 3 days before to 90 days after the date
date_implausible          -25/-10  paid long before the order existed / very late
=========================  ======  ====================================================

Foreign currency: a payment in another currency than the order or invoice is converted
with the rate the caller gives (``rates``, in Odoo the company's rate of the payment day)
and, if it fits, proposed with the evidence "converted at rate X"; it is never confirmed
automatically (a person checks what the bank really credited). Without a rate it is left
to a person with the reason.

Auto-confirm (the target is *no wrong automatic match*): only an incoming payment whose
best proposal needs no person, scores at least ``auto_threshold`` (so a reference is
always part of it) and whose runner-up (not a part of it) is ``min_gap`` points below.

Speed: candidates are indexed by reference keys, amount, partner keys and payer name, and
learned payer names by their normalised key, so each transaction only scores the handful
of candidates sharing something with it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import combinations

from .payments import BankTransaction

ZERO = Decimal(0)

POINTS = {
    "structured_reference": 55,
    "reference_exact": 50,
    "reference_mangled": 35,
    "amount_equal": 30,
    "amount_within_tolerance": 15,
    "amount_partial": 5,
    "amount_overpaid": 5,
    "amount_converted": 20,
    "collective_amount": 30,
    "payer_known": 25,
    "payer_name_learned": 20,
    "payer_name_strong": 15,
    "payer_name_weak": 8,
    "date_plausible": 5,
    "date_before_order": -25,
    "date_very_late": -10,
}
REFERENCE_RULES = ("structured_reference", "reference_exact", "reference_mangled")

_OCR = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2",
                      "S": "5", "B": "8", "G": "6"})  # fmt: skip
_SPLIT = re.compile(r"[\s/\\\-_.,:;#()+*]+")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
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
WINDOW = 4  # a reference may be split into up to 4 purpose tokens ("SO 00 47 11")
MIN_SHOP_REF = 4  # shorter shop order numbers ("#12") are too easily found by chance
MAX_COLLECTIVE_REFS = 8
CENT = Decimal("0.01")

# rate(from currency, to currency, day) -> units of ``to`` for one ``from``, or None
Rates = Callable[[str, str, date], "Decimal | None"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open order or invoice money may be paid for."""

    kind: str  # "order" or "invoice"
    id: int
    reference: str
    invoice_number: str = ""
    structured_ref: str = ""
    # the order number the customer saw in the shop ("#900000"), for the order and its
    # invoices: PayPal and bank transfers name this one, not ours
    shop_refs: tuple[str, ...] = ()
    partner_id: int | None = None
    partner_names: tuple[str, ...] = ()
    partner_ibans: tuple[str, ...] = ()
    partner_emails: tuple[str, ...] = ()
    amount_due: Decimal = ZERO
    currency: str = "EUR"
    date: date | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason for (or against) a match: the rule, its points and the facts seen."""

    rule: str
    points: int
    detail: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A candidate (or, for a collective payment, several) with its explained score."""

    candidate_ids: tuple[int, ...]
    score: int
    evidence: tuple[Evidence, ...]
    needs_person: bool = False
    reason: str = ""

    @property
    def candidate_id(self) -> int:
        return self.candidate_ids[0]

    @property
    def has_reference(self) -> bool:
        return any(e.rule in REFERENCE_RULES for e in self.evidence)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Ranked proposals for one transaction and whether the best may be auto-confirmed."""

    transaction_key: str
    proposals: tuple[Proposal, ...]
    auto_confirm: Proposal | None
    needs_person: bool
    reason: str


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Thresholds of the matcher (amounts in the transaction's currency)."""

    auto_threshold: int = 80
    min_gap: int = 30
    tolerance_abs: Decimal = Decimal("1.00")
    tolerance_pct: Decimal = Decimal("1")
    max_proposals: int = 5
    amount_bucket_limit: int = 25
    strong_name: float = 0.9
    weak_name: float = 0.75
    fx_tolerance_pct: Decimal = Decimal("2")


# --- normalisation ---------------------------------------------------------------------


def _alnum(text: str) -> str:
    return _NOT_ALNUM.sub("", text.upper())


def _ocr(key: str) -> str:
    return key.translate(_OCR)


def _digit_keys(key: str) -> set[str]:
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
    ref = _alnum(reference)
    if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", ref):
        return False
    moved = ref[4:] + ref[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _norm_iban(iban: str) -> str:
    return iban.replace(" ", "").upper()


def _norm_email(email: str) -> str:
    return email.strip().lower()


# --- index -----------------------------------------------------------------------------


class CandidateIndex:
    """Open candidates indexed for lookups by reference, amount, partner and name.

    ``learned_names`` maps payer names seen on confirmed payments to the partner they paid
    for; they are normalised here once (:func:`payer_name_key`), a key learned for several
    partners points to all of them.
    """

    def __init__(
        self, candidates: Iterable[Candidate], learned_names: Mapping[str, int] | None = None
    ):
        self.candidates: dict[int, Candidate] = {}
        self.exact: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.mangled: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.structured: dict[str, list[int]] = defaultdict(list)
        self.by_amount: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
        self.by_amount_partner: dict[tuple[str, Decimal, int], list[int]] = defaultdict(list)
        self.by_partner: dict[int, list[int]] = defaultdict(list)
        self.by_iban: dict[str, set[int]] = defaultdict(set)
        self.by_email: dict[str, set[int]] = defaultdict(set)
        self.by_name: dict[tuple[str, ...], set[int]] = defaultdict(set)
        self.by_learned_name: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for cand in candidates:
            self._add(cand)
        for name, partner_id in (learned_names or {}).items():
            key = payer_name_key(name)
            if key:
                self.by_learned_name[key].add(partner_id)

    def _add(self, cand: Candidate) -> None:
        if cand.id in self.candidates:
            raise ValueError(f"candidate id {cand.id} given twice")
        self.candidates[cand.id] = cand
        refs = [("order", cand.reference, 3), ("invoice", cand.invoice_number, 3)]
        refs += [("shop order", ref, MIN_SHOP_REF) for ref in dict.fromkeys(cand.shop_refs)]
        for label, ref, shortest in refs:
            key = _alnum(ref or "")
            if len(key) < shortest or (cand.id, label) in self.exact.get(key, ()):
                continue
            self.exact[key].append((cand.id, label))
            for mangled in {_ocr(key), *_digit_keys(key)} - {key}:
                self.mangled[mangled].append((cand.id, label))
        if cand.structured_ref:
            self.structured[_alnum(cand.structured_ref)].append(cand.id)
        self.by_amount[(cand.currency, cand.amount_due)].append(cand.id)
        if cand.partner_id is not None:
            self.by_amount_partner[(cand.currency, cand.amount_due, cand.partner_id)].append(
                cand.id
            )
            self.by_partner[cand.partner_id].append(cand.id)
            for iban in cand.partner_ibans:
                self.by_iban[_norm_iban(iban)].add(cand.partner_id)
            for email in cand.partner_emails:
                self.by_email[_norm_email(email)].add(cand.partner_id)
            for name in cand.partner_names:
                tokens = name_tokens(name)
                if tokens:
                    self.by_name[tokens].add(cand.partner_id)

    # references -------------------------------------------------------------------

    def find_references(self, purpose: str) -> dict[int, Evidence]:
        """Candidates whose reference occurs in ``purpose``, with the best evidence each."""
        found: dict[int, Evidence] = {}

        def offer(cand_id: int, rule: str, detail: str) -> None:
            current = found.get(cand_id)
            if current is None or POINTS[rule] > current.points:
                found[cand_id] = Evidence(rule, POINTS[rule], detail)

        tokens = [t for t in _SPLIT.split(purpose.upper()) if t]
        for i in range(len(tokens)):
            window = ""
            for j in range(i, min(i + WINDOW, len(tokens))):
                window += _NOT_ALNUM.sub("", tokens[j])
                if len(window) < 3:
                    continue
                text = " ".join(tokens[i : j + 1])
                for cand_id in self.structured.get(window, ()):
                    offer(cand_id, "structured_reference", f"creditor reference {text}")
                for cand_id, label in self.exact.get(window, ()):
                    offer(cand_id, "reference_exact", f"{label} number {text} in the purpose")
                keys = {_ocr(window)}
                if window.isdigit():  # the number without its prefix or leading zeros
                    keys |= _digit_keys(window)
                for key in keys:
                    hits = self.mangled.get(key, ())
                    if key != window:
                        hits = (*hits, *self.exact.get(key, ()))
                    for cand_id, label in hits:
                        ref = self._label_ref(cand_id, label)
                        offer(
                            cand_id,
                            "reference_mangled",
                            f"{text} in the purpose looks like {label} number {ref}",
                        )
        return found

    def _label_ref(self, cand_id: int, label: str) -> str:
        cand = self.candidates[cand_id]
        if label == "shop order":
            return ", ".join(cand.shop_refs)
        return cand.reference if label == "order" else cand.invoice_number

    # payer --------------------------------------------------------------------------

    def payer_partners(
        self, txn: BankTransaction, known_payers: Mapping[str, int]
    ) -> dict[int, str]:
        """Partners the payer is known as, with how we know (IBAN / e-mail)."""
        partners: dict[int, str] = {}
        iban = _norm_iban(txn.counterparty_iban)
        email = _norm_email(txn.counterparty_email)
        if iban:
            for pid in self.by_iban.get(iban, ()):
                partners[pid] = f"IBAN {iban} is on the customer"
            if iban in known_payers:
                partners.setdefault(known_payers[iban], f"IBAN {iban} paid for them before")
        if email:
            for pid in self.by_email.get(email, ()):
                partners.setdefault(pid, f"e-mail {email} is the customer's")
            if email in known_payers:
                partners.setdefault(known_payers[email], f"e-mail {email} paid for them before")
        return partners

    def learned_name_partners(self, txn: BankTransaction) -> dict[int, str]:
        """Partners the payer's name paid for before (learned names), with the detail."""
        key = payer_name_key(txn.counterparty_name) if txn.counterparty_name else ()
        partners = self.by_learned_name.get(key, ()) if key else ()
        detail = f"payer name {txn.counterparty_name!r} paid for them before"
        if len(partners) > 1:
            detail += f" (and for {len(partners) - 1} other customer(s))"
        return dict.fromkeys(partners, detail)


# --- scoring ---------------------------------------------------------------------------


def _tolerance(due: Decimal, settings: MatchSettings) -> Decimal:
    return min(settings.tolerance_abs, abs(due) * settings.tolerance_pct / 100)


def _amount_evidence(
    paid: Decimal,
    cand: Candidate,
    currency: str,
    settings: MatchSettings,
    rate: Decimal | None = None,
) -> tuple[Evidence | None, str]:
    """Evidence on the amount and the reason a person is needed ('' if none).

    ``rate`` converts ``currency`` into the candidate's currency (None: no rate known).
    """
    if cand.currency != currency:
        return _converted_evidence(paid, cand, currency, settings, rate)
    due = cand.amount_due
    if paid == due:
        return Evidence("amount_equal", POINTS["amount_equal"], f"{paid} {currency} as due"), ""
    diff = paid - due
    if abs(diff) <= _tolerance(due, settings):
        return (
            Evidence(
                "amount_within_tolerance",
                POINTS["amount_within_tolerance"],
                f"paid {paid}, due {due} (difference {diff})",
            ),
            f"amount differs by {diff} {currency}",
        )
    return _partial_or_overpaid_evidence(paid, due, diff, currency)


def _partial_or_overpaid_evidence(
    paid: Decimal, due: Decimal, diff: Decimal, currency: str
) -> tuple[Evidence | None, str]:
    """An amount beyond the tolerance: a partial payment or an overpayment (else none)."""
    if ZERO < paid < due:
        return (
            Evidence("amount_partial", POINTS["amount_partial"], f"paid {paid} of {due}"),
            f"partial payment: {paid} of {due} {currency}",
        )
    if paid > due:
        return (
            Evidence(
                "amount_overpaid",
                POINTS["amount_overpaid"],
                f"paid {paid}, due {due}: overpaid by {diff} {currency}",
            ),
            f"overpayment: {paid} for {due} {currency} due, {diff} {currency} too much",
        )
    return None, ""


def _converted_evidence(
    paid: Decimal, cand: Candidate, currency: str, settings: MatchSettings, rate: Decimal | None
) -> tuple[Evidence, str]:
    """A payment in another currency: converted at ``rate``, it fits or it does not."""
    due = cand.amount_due
    if rate is None or rate <= 0:
        return (
            Evidence("currency_differs", 0, f"paid in {currency}, due in {cand.currency}"),
            f"foreign currency: paid {paid} {currency}, due {due} {cand.currency}, no rate",
        )
    converted = (paid * rate).quantize(CENT)
    fact = (
        f"{paid} {currency} converted at rate {rate.normalize()} = {converted} {cand.currency}, "
        f"due {due} {cand.currency}"
    )
    if abs(converted - due) <= abs(due) * settings.fx_tolerance_pct / 100:
        return (
            Evidence("amount_converted", POINTS["amount_converted"], fact),
            f"foreign currency: {fact}; check the amount the bank credited",
        )
    return (
        Evidence("currency_differs", 0, fact),
        f"foreign currency: {fact}; the amounts differ",
    )


def _date_evidence(booked: date, cand: Candidate) -> Evidence | None:
    if cand.date is None:
        return None
    days = (booked - cand.date).days
    if days < -3:
        return Evidence(
            "date_before_order", POINTS["date_before_order"], f"paid {-days} days before it"
        )
    if days > 180:
        return Evidence("date_very_late", POINTS["date_very_late"], f"paid {days} days after")
    if days <= 90:
        return Evidence("date_plausible", POINTS["date_plausible"], f"paid {days} days after")
    return None


def _name_evidence(payer: str, cand: Candidate, settings: MatchSettings) -> Evidence | None:
    if not payer or not cand.partner_names:
        return None
    best, best_name = max((name_similarity(payer, n), n) for n in cand.partner_names)
    if best >= settings.strong_name:
        return Evidence(
            "payer_name", POINTS["payer_name_strong"], f"{payer!r} ~ {best_name!r} ({best:.2f})"
        )
    if best >= settings.weak_name:
        return Evidence(
            "payer_name", POINTS["payer_name_weak"], f"{payer!r} ~ {best_name!r} ({best:.2f})"
        )
    return None


def _score(evidence: list[Evidence]) -> int:
    return max(0, min(100, sum(e.points for e in evidence)))


def score_candidate(
    txn: BankTransaction,
    cand: Candidate,
    reference: Evidence | None,
    payer_known: str | None,
    settings: MatchSettings,
    learned_name: str | None = None,
    rate: Decimal | None = None,
) -> Proposal:
    """Score one candidate for ``txn``, with the evidence for every point.

    ``learned_name`` (the payer's name paid for this customer before) is the stronger of
    the two name rules and replaces the fuzzy ``payer_name`` one: a name counts once.
    """
    evidence: list[Evidence] = []
    reasons: list[str] = []
    if reference is not None:
        evidence.append(reference)
    amount, reason = _amount_evidence(abs(txn.amount), cand, txn.currency, settings, rate)
    if amount is not None:
        evidence.append(amount)
    if reason:
        reasons.append(reason)
    if payer_known:
        evidence.append(Evidence("payer_known", POINTS["payer_known"], payer_known))
    if learned_name:
        evidence.append(Evidence("payer_name_learned", POINTS["payer_name_learned"], learned_name))
    else:
        name = _name_evidence(txn.counterparty_name, cand, settings)
        if name is not None:
            evidence.append(name)
    when = _date_evidence(txn.booking_date, cand)
    if when is not None:
        evidence.append(when)
    return Proposal(
        (cand.id,), _score(evidence), tuple(evidence), bool(reasons), "; ".join(reasons)
    )


def _collective(
    txn: BankTransaction,
    index: CandidateIndex,
    references: dict[int, Evidence],
    payers: dict[int, str],
    settings: MatchSettings,
    learned: Mapping[int, str] | None = None,
) -> Proposal | None:
    """Several referenced candidates whose amounts add up exactly to the payment."""
    ids = [
        cid
        for cid in references
        if index.candidates[cid].currency == txn.currency and index.candidates[cid].amount_due > 0
    ]
    if len(ids) < 2 or len(ids) > MAX_COLLECTIVE_REFS:
        return None
    paid = abs(txn.amount)
    for size in range(len(ids), 1, -1):
        for group in combinations(ids, size):
            total = sum((index.candidates[c].amount_due for c in group), ZERO)
            if total != paid:
                continue
            members = [index.candidates[c] for c in group]
            refs = [references[c] for c in group]
            return _collective_proposal(txn, members, refs, payers, settings, learned or {})
    return None


def _collective_proposal(
    txn: BankTransaction,
    members: list[Candidate],
    refs: list[Evidence],
    payers: dict[int, str],
    settings: MatchSettings,
    learned: Mapping[int, str],
) -> Proposal:
    """The explained proposal of ``members``, whose amounts add up to the payment."""
    weakest = min(refs, key=lambda e: e.points)
    evidence = [
        Evidence(weakest.rule, weakest.points, " + ".join(e.detail for e in refs)),
        Evidence(
            "collective_amount",
            POINTS["collective_amount"],
            f"{len(members)} open amounts add up to {abs(txn.amount)} {txn.currency}",
        ),
    ]
    if any(m.partner_id in payers for m in members):
        evidence.append(Evidence("payer_known", POINTS["payer_known"], "payer known for them"))
    evidence.extend(_members_name_evidence(txn, members, learned, settings))
    dates = [_date_evidence(txn.booking_date, m) for m in members]
    if dates and all(d is not None and d.rule == "date_plausible" for d in dates):
        evidence.append(Evidence("date_plausible", POINTS["date_plausible"], "all"))
    mangled = weakest.rule == "reference_mangled"
    return Proposal(
        tuple(m.id for m in members),
        _score(evidence),
        tuple(evidence),
        mangled,
        "collective payment with uncertain references" if mangled else "",
    )


def _members_name_evidence(
    txn: BankTransaction,
    members: list[Candidate],
    learned: Mapping[int, str],
    settings: MatchSettings,
) -> list[Evidence]:
    """The one name evidence of a collective payment: learned if any member's, else fuzzy."""
    known = next((learned[m.partner_id] for m in members if m.partner_id in learned), None)
    if known:
        return [Evidence("payer_name_learned", POINTS["payer_name_learned"], known)]
    names = [_name_evidence(txn.counterparty_name, m, settings) for m in members]
    best_name = max((n for n in names if n), key=lambda n: n.points, default=None)
    return [best_name] if best_name is not None else []


def _retrieve(
    txn: BankTransaction,
    index: CandidateIndex,
    references: dict[int, Evidence],
    payers: Mapping[int, str],
    settings: MatchSettings,
) -> set[int]:
    ids = set(references)
    for pid in payers:
        ids.update(index.by_partner.get(pid, ()))
    bucket = index.by_amount.get((txn.currency, abs(txn.amount)), ())
    if len(bucket) <= settings.amount_bucket_limit:
        ids.update(bucket)
    else:
        named = index.by_name.get(name_tokens(txn.counterparty_name), set()) | set(payers)
        key = (txn.currency, abs(txn.amount))
        for pid in named:
            ids.update(index.by_amount_partner.get((*key, pid), ()))
    return ids


_NO_MATCHING = {
    "fee": "fee: book it as a bank or PayPal charge",
    "conversion": "currency conversion: no order to match",
    "transfer": "transfer between own accounts: no order to match",
}


def match_transaction(
    txn: BankTransaction,
    index: CandidateIndex,
    known_payers: Mapping[str, int] | None = None,
    settings: MatchSettings | None = None,
    rates: Rates | None = None,
) -> MatchResult:
    """Rank the open candidates for ``txn`` and decide whether to auto-confirm the best.

    ``known_payers`` maps an IBAN (no spaces, upper case) or a lower-case e-mail to the
    partner it paid for before (learned from confirmed matches); learned payer names are
    given to the index (:class:`CandidateIndex`), which normalises them once. ``rates``
    converts a payment in another currency than a candidate's (see the module docstring).
    """
    settings = settings or MatchSettings()
    if txn.kind in _NO_MATCHING:
        return MatchResult(txn.key, (), None, True, _NO_MATCHING[txn.kind])
    proposals = _ranked_proposals(txn, index, known_payers or {}, settings, rates)
    if txn.amount < 0 or txn.kind in ("refund", "reversal"):
        why = "reversal (returned payment)" if txn.kind == "reversal" else "outgoing money"
        proposals = [
            Proposal(p.candidate_ids, p.score, p.evidence, True, _join(why, p.reason))
            for p in proposals
        ]
    if not proposals:
        return MatchResult(txn.key, (), None, True, "no open order or invoice fits")
    return _decide(txn.key, proposals, settings)


def _ranked_proposals(
    txn: BankTransaction,
    index: CandidateIndex,
    known_payers: Mapping[str, int],
    settings: MatchSettings,
    rates: Rates | None,
) -> list[Proposal]:
    """The best ``max_proposals`` proposals with a positive score, best first."""

    def rate_for(cand: Candidate) -> Decimal | None:
        if cand.currency == txn.currency or rates is None:
            return None
        return rates(txn.currency, cand.currency, txn.booking_date)

    references = index.find_references(" ".join((txn.purpose, txn.end_to_end_id)))
    payers = index.payer_partners(txn, known_payers)
    learned = index.learned_name_partners(txn)
    proposals = [
        score_candidate(
            txn,
            index.candidates[cid],
            references.get(cid),
            payers.get(index.candidates[cid].partner_id),
            settings,
            learned.get(index.candidates[cid].partner_id),
            rate_for(index.candidates[cid]),
        )
        for cid in _retrieve(txn, index, references, {**learned, **payers}, settings)
    ]
    collective = _collective(txn, index, references, payers, settings, learned)
    if collective is not None:
        proposals.append(collective)
    proposals = [p for p in proposals if p.score > 0]
    proposals.sort(key=lambda p: (-p.score, p.needs_person, len(p.candidate_ids), p.candidate_ids))
    return proposals[: settings.max_proposals]


def _decide(key: str, proposals: list[Proposal], settings: MatchSettings) -> MatchResult:
    """Auto-confirm the top proposal, or say why a person must decide."""
    top = proposals[0]
    runner_up = next(
        (p for p in proposals[1:] if not set(p.candidate_ids) <= set(top.candidate_ids)), None
    )
    gap = top.score - (runner_up.score if runner_up else 0)
    if top.needs_person:
        reason = top.reason
    elif top.score < settings.auto_threshold or not top.has_reference:
        reason = f"best score {top.score} is below {settings.auto_threshold}"
    elif gap < settings.min_gap:
        reason = f"ambiguous: runner-up only {gap} points below"
    else:
        return MatchResult(key, tuple(proposals), top, False, "")
    return MatchResult(key, tuple(proposals), None, True, reason)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def match_all(
    transactions: Iterable[BankTransaction],
    candidates: Iterable[Candidate],
    known_payers: Mapping[str, int] | None = None,
    settings: MatchSettings | None = None,
    learned_names: Mapping[str, int] | None = None,
    rates: Rates | None = None,
) -> list[MatchResult]:
    """Match many transactions against one set of open candidates (indexed once).

    ``learned_names`` maps payer names of confirmed payments to the partner they paid for
    (see :class:`CandidateIndex`); ``rates`` converts foreign currencies (see
    :func:`match_transaction`). A candidate may be proposed to several transactions;
    the glue confirms one match at a time and re-runs the rest with what is still open.
    """
    index = CandidateIndex(candidates, learned_names)
    return [match_transaction(t, index, known_payers, settings, rates) for t in transactions]
