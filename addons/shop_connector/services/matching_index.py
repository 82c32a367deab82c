"""Open candidates indexed for payment matching, and the lookups by reference and payer.

Candidates are indexed by reference keys, amount, partner keys and payer name, and learned
payer names by their normalised key (see :mod:`.matching`, "Speed").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from .matching_normalise import (
    NOT_ALNUM,
    alnum_key,
    digit_keys,
    name_tokens,
    norm_email,
    norm_iban,
    ocr_key,
    payer_name_key,
)
from .matching_types import POINTS, Candidate, Evidence
from .payments import BankTransaction

_SPLIT = re.compile(r"[\s/\\\-_.,:;#()+*]+")
WINDOW = 4  # a reference may be split into up to 4 purpose tokens ("SO 00 47 11")
MIN_SHOP_REF = 4  # shorter shop order numbers ("#12") are too easily found by chance


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
            key = alnum_key(ref or "")
            if len(key) < shortest or (cand.id, label) in self.exact.get(key, ()):
                continue
            self.exact[key].append((cand.id, label))
            for mangled in {ocr_key(key), *digit_keys(key)} - {key}:
                self.mangled[mangled].append((cand.id, label))
        if cand.structured_ref:
            self.structured[alnum_key(cand.structured_ref)].append(cand.id)
        self.by_amount[(cand.currency, cand.amount_due)].append(cand.id)
        if cand.partner_id is not None:
            self.by_amount_partner[(cand.currency, cand.amount_due, cand.partner_id)].append(
                cand.id
            )
            self.by_partner[cand.partner_id].append(cand.id)
            for iban in cand.partner_ibans:
                self.by_iban[norm_iban(iban)].add(cand.partner_id)
            for email in cand.partner_emails:
                self.by_email[norm_email(email)].add(cand.partner_id)
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
                window += NOT_ALNUM.sub("", tokens[j])
                if len(window) < 3:
                    continue
                text = " ".join(tokens[i : j + 1])
                for cand_id in self.structured.get(window, ()):
                    offer(cand_id, "structured_reference", f"creditor reference {text}")
                for cand_id, label in self.exact.get(window, ()):
                    offer(cand_id, "reference_exact", f"{label} number {text} in the purpose")
                keys = {ocr_key(window)}
                if window.isdigit():  # the number without its prefix or leading zeros
                    keys |= digit_keys(window)
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
        iban = norm_iban(txn.counterparty_iban)
        email = norm_email(txn.counterparty_email)
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
