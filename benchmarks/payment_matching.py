#!/usr/bin/env python3
"""Payment matching: our indexed, explainable matcher against the stock approach.

A deterministic generator (seed 20260302) plants ground truth: ``--size`` incoming
transactions (default 10,000) against five times as many open orders and invoices
(default 50,000), with exact, mangled and missing references, rounded, partial and
overpaid amounts, collective payments, refunds, payers whose name differs from the
customer's, and payments that belong to nothing.

* **ours**: ``services.matching.match_all`` over the whole set; seconds. Also reported:
  auto-confirmed precision (target 100 %) and the share of transactions with a true
  match whose right candidate(s) rank first (target >= 95 %).
* **peer**: PEER IS A NAIVE PURE-PYTHON REIMPLEMENTATION OF STOCK ODOO'S APPROACH, NOT
  ODOO ITSELF: the partner from the IBAN (``res.partner.bank``), else
  ``res.partner._retrieve_partner`` (e-mail equal, then a unique ``name ilike``), then
  open items whose number occurs in the label (``ilike``), else the partner's open item
  of exactly the amount. Like the ``ilike`` searches it scans every open item for every
  transaction, so it runs on the first ``PEER_SAMPLE`` transactions and its time is
  extrapolated linearly to the full size (said so in the output). Measuring stock Odoo
  itself in a registry (database ``h5_bench``) is not done yet.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.conftest  # noqa: E402, F401 - mounts the addons as shopaddons.*
from benchmarks.harness import Result, parse_args, report, stopwatch  # noqa: E402
from shopaddons.shop_connector.services.matching import Candidate, match_all  # noqa: E402
from shopaddons.shop_connector.services.payments import BankTransaction  # noqa: E402

SEED = 20260302
TODAY = date(2026, 3, 2)
PEER_SAMPLE = 300
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hans",
    "Ida",
    "Jonas",
    "Karl",
    "Lena",
    "Max",
    "Nina",
    "Otto",
    "Paula",
    "Quirin",
    "Rosa",
    "Sven",
    "Tina",
    "Uwe",
    "Vera",
    "Willi",
    "Yvonne",
    "Zoe",
    "Jürgen",
    "Jörg",
    "Sören",
    "Anja",
    "Bernd",
    "Carla",
    "Dieter",
    "Elke",
    "Frank",
    "Gisela",
    "Heike",
    "Ingo",
    "Jana",
    "Kai",
    "Lutz",
    "Marta",
    "Nils",
    "Olga",
    "Pia",
    "Ralf",
    "Sabine",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Schubert",
    "Vogel",
    "Friedrich",
    "Keller",
    "Günther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Albrecht",
    "Schuster",
    "Simon",
    "Ludwig",
    "Böhm",
    "Winter",
    "Kraus",
    "Martin",
    "Schumacher",
    "Krämer",
    "Vogt",
    "Stein",
    "Jäger",
    "Otto",
    "Sommer",
    "Groß",
    "Seidel",
    "Heinrich",
    "Brandt",
    "Haas",
    "Schreiber",
    "Graf",
    "Schulte",
    "Dietrich",
    "Ziegler",
    "Kuhn",
    "Kühn",
    "Pohl",
    "Engel",
    "Horn",
    "Busch",
    "Bergmann",
    "Thomas",
    "Voigt",
    "Sauer",
    "Arnold",
    "Wolff",
    "Pfeiffer",
]
COMMON_PRICES = [Decimal(p) for p in ("9.95", "19.99", "29.99", "49.90", "99.00")]
SCENARIOS = [  # (name, weight)
    ("exact", 44),
    ("exact_other_payer", 8),
    ("mangled", 12),
    ("iban_only", 7),
    ("name_only", 5),
    ("rounded", 4),
    ("partial", 4),
    ("overpaid", 2),
    ("collective", 6),
    ("refund", 2),
    ("nothing", 6),
]


@dataclass(frozen=True, slots=True)
class Case:
    """A generated transaction and the candidate ids it truly belongs to."""

    transaction: BankTransaction
    truth: tuple[int, ...]
    scenario: str


def _iban(rng: random.Random) -> str:
    return "DE" + "".join(rng.choice("0123456789") for _ in range(20))


def generate(size: int, seed: int = SEED) -> tuple[list[Candidate], list[Case]]:
    """``5 * size`` open candidates and ``size`` labelled transactions, deterministic."""
    rng = random.Random(seed)
    n_candidates = 5 * size
    partners = []
    for pid in range(1, n_candidates // 2 + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        partners.append(
            (
                pid,
                f"{first} {last}",
                _iban(rng) if rng.random() < 0.6 else "",
                f"{first}.{last}{pid}@example.com".lower(),
            )
        )
    candidates = []
    for cid in range(1, n_candidates + 1):
        pid, name, iban, email = rng.choice(partners)
        invoice = rng.random() < 0.3
        amount = (
            rng.choice(COMMON_PRICES)
            if rng.random() < 0.15
            else Decimal(rng.randint(500, 80000)) / 100
        )
        candidates.append(
            Candidate(
                kind="invoice" if invoice else "order",
                id=cid,
                reference=f"SO-{cid:06d}",
                invoice_number=f"RE-2026-{cid:06d}" if invoice else "",
                partner_id=pid,
                partner_names=(name,),
                partner_ibans=(iban,) if iban else (),
                partner_emails=(email,),
                amount_due=amount,
                currency="EUR",
                date=TODAY - timedelta(days=rng.randint(1, 60)),
            )
        )
    by_partner: dict[int, list[Candidate]] = {}
    for cand in candidates:
        by_partner.setdefault(cand.partner_id, []).append(cand)
    order = list(range(n_candidates))
    rng.shuffle(order)
    targets = iter(order)
    names, weights = zip(*SCENARIOS, strict=True)
    cases = []
    for n in range(size):
        scenario = rng.choices(names, weights)[0]
        cand = candidates[next(targets)]
        cases.append(_case(rng, n, scenario, cand, by_partner))
    return candidates, cases


def _mangle(rng: random.Random, ref: str) -> str:
    how = rng.randrange(4)
    if how == 0:
        return ref.split("-", 1)[1]  # prefix missing
    if how == 1:
        return ref.lower().replace("-", "")
    if how == 2:
        return ref.replace("-", " ")[:6] + " " + ref.replace("-", " ")[6:]
    return ref.replace("0", "O", 1)  # OCR-ish


def _payer_name(rng: random.Random, name: str) -> str:
    first, last = name.split(" ", 1)
    return rng.choice(
        [name, f"{last}, {first}", name.upper(), f"{first[0]}. {last}", name.replace("ü", "ue")]
    )


def _case(rng, n, scenario, cand, by_partner) -> Case:
    ref = cand.invoice_number or cand.reference
    amount = cand.amount_due
    name = _payer_name(rng, cand.partner_names[0])
    iban = cand.partner_ibans[0] if cand.partner_ibans else _iban(rng)
    purpose = rng.choice(["Bestellung {}", "{}", "Rechnung {} Danke", "Ihre Bestellung {} vom"])
    truth: tuple[int, ...] = (cand.id,)
    day = cand.date + timedelta(days=rng.randint(0, 10))
    kind = "payment"
    if scenario == "exact":
        purpose = purpose.format(ref)
    elif scenario == "exact_other_payer":
        purpose = purpose.format(ref)
        name, iban = f"{rng.choice(FIRST)} {rng.choice(LAST)}", _iban(rng)
    elif scenario == "mangled":
        purpose = purpose.format(_mangle(rng, ref))
    elif scenario == "iban_only":
        purpose = "Danke"
        if not cand.partner_ibans:
            scenario, purpose = "name_only", "Vielen Dank"
    elif scenario == "name_only":
        purpose, iban = "Vielen Dank", _iban(rng)
    elif scenario == "rounded":
        purpose, amount = purpose.format(ref), amount.quantize(Decimal(1))
        if amount == cand.amount_due or abs(amount - cand.amount_due) > amount / 100:
            amount = cand.amount_due + Decimal("0.01")
    elif scenario == "partial":
        purpose, amount = purpose.format(ref), (amount / 2).quantize(Decimal("0.01"))
    elif scenario == "overpaid":
        purpose, amount = purpose.format(ref), amount + Decimal("10.00")
    elif scenario == "collective":
        others = [c for c in by_partner[cand.partner_id] if c.id != cand.id][:2]
        group = [cand, *others]
        if len(group) == 1:
            scenario, purpose = "exact", purpose.format(ref)
        else:
            purpose = "Sammelzahlung " + ", ".join(c.invoice_number or c.reference for c in group)
            amount = sum((c.amount_due for c in group), Decimal(0))
            truth = tuple(sorted(c.id for c in group))
    elif scenario == "refund":
        purpose, amount, kind = f"Erstattung {ref}", -amount, "refund"
    elif scenario == "nothing":
        purpose = rng.choice(["Miete März", "Spende", "Gutschrift Lieferant", "Zinsen"])
        amount = Decimal(rng.randint(100, 999999)) / 100 + Decimal("0.003")
        amount = amount.quantize(Decimal("0.01"))
        name, iban, truth = f"{rng.choice(FIRST)} Fremd", _iban(rng), ()
    txn = BankTransaction(
        key=f"bench:{n}",
        account="DE02120300000000202051",
        booking_date=day,
        value_date=day,
        amount=amount,
        currency="EUR",
        counterparty_name=name,
        counterparty_iban=iban,
        purpose=purpose,
        kind=kind,
    )
    return Case(txn, truth, scenario)


def evaluate(cases: list[Case], picks: list[tuple[tuple[int, ...], bool]]) -> dict:
    """Precision of automatic matches and recall of the right first proposal."""
    auto = [(case, ids) for case, (ids, is_auto) in zip(cases, picks, strict=True) if is_auto]
    right_auto = sum(1 for case, ids in auto if tuple(sorted(ids)) == case.truth)
    with_truth = [(case, ids) for case, (ids, _a) in zip(cases, picks, strict=True) if case.truth]
    ranked_first = sum(1 for case, ids in with_truth if tuple(sorted(ids)) == case.truth)
    return {
        "auto_confirmed": len(auto),
        "auto_precision": right_auto / len(auto) if auto else 1.0,
        "recall_first": ranked_first / len(with_truth) if with_truth else 1.0,
        "wrong_auto": [c.transaction.key for c, ids in auto if tuple(sorted(ids)) != c.truth][:5],
    }


def run_ours(candidates: list[Candidate], cases: list[Case]):
    """Our matcher over every transaction: ``(seconds, picks)``."""
    with stopwatch() as elapsed:
        results = match_all([c.transaction for c in cases], candidates)
    picks = [
        (
            (r.auto_confirm or (r.proposals[0] if r.proposals else None)).candidate_ids
            if r.proposals
            else (),
            r.auto_confirm is not None,
        )
        for r in results
    ]
    return elapsed(), picks


def run_naive_peer(candidates: list[Candidate], cases: list[Case]):
    """NAIVE PURE-PYTHON REIMPLEMENTATION of stock Odoo (see module docstring)."""
    by_iban: dict[str, int] = {}
    partner_rows: dict[int, tuple[str, str]] = {}
    for cand in candidates:
        for iban in cand.partner_ibans:
            by_iban[iban] = cand.partner_id
        partner_rows[cand.partner_id] = (cand.partner_names[0], cand.partner_emails[0])
    picks = []
    with stopwatch() as elapsed:
        for case in cases:
            txn = case.transaction
            partner = by_iban.get(txn.counterparty_iban)
            if partner is None and txn.counterparty_name:
                needle = txn.counterparty_name.lower()
                hits = [p for p, (name, _e) in partner_rows.items() if needle in name.lower()]
                partner = hits[0] if len(hits) == 1 else None
            label = txn.purpose.upper()
            by_ref = [
                c
                for c in candidates
                if c.reference.upper() in label
                or (c.invoice_number and c.invoice_number.upper() in label)
            ]
            paid = abs(txn.amount)
            if len(by_ref) == 1:
                picks.append(((by_ref[0].id,), by_ref[0].amount_due == paid and txn.amount > 0))
                continue
            if partner is not None:
                same = [c for c in candidates if c.partner_id == partner and c.amount_due == paid]
                if len(same) == 1:
                    picks.append(((same[0].id,), txn.amount > 0))
                    continue
            picks.append(((), False))
    return elapsed(), picks


def main(argv=None) -> None:
    args = parse_args(10_000, "payment matching: ours vs a naive stock-like peer", argv)
    candidates, cases = generate(args.size)
    ours_time, ours_picks = run_ours(candidates, cases)
    ours = evaluate(cases, ours_picks)
    sample = cases[: min(PEER_SAMPLE, len(cases))]
    peer_time, peer_picks = run_naive_peer(candidates, sample)
    peer = evaluate(sample, peer_picks)
    peer_full = peer_time * len(cases) / len(sample)
    print(f"{len(cases)} transactions against {len(candidates)} open orders/invoices")
    print(
        f"ours: {ours_time:.2f} s, auto-confirmed {ours['auto_confirmed']} with precision "
        f"{ours['auto_precision']:.2%} (target 100 %), right candidate first "
        f"{ours['recall_first']:.2%} (target >= 95 %)"
    )
    if ours["wrong_auto"]:
        print(f"  WRONG automatic matches, e.g. {ours['wrong_auto']}")
    print(
        "PEER IS A NAIVE PURE-PYTHON REIMPLEMENTATION OF STOCK ODOO'S APPROACH, NOT ODOO "
        f"ITSELF, run on {len(sample)} transactions and extrapolated: {peer_full:.1f} s "
        f"({peer_time:.2f} s measured); precision {peer['auto_precision']:.2%}, right "
        f"first {peer['recall_first']:.2%}"
    )
    report(
        Result(
            figure="payment_matching",
            unit="s",
            ours=ours_time,
            peer=peer_full,
            target=10,
            size=len(cases),
            higher_is_better=False,
            extra={
                "auto_precision": round(ours["auto_precision"], 4),
                "recall_first": round(ours["recall_first"], 4),
                "auto_confirmed": ours["auto_confirmed"],
                "peer_auto_precision": round(peer["auto_precision"], 4),
                "peer_recall_first": round(peer["recall_first"], 4),
                "peer_kind": "naive pure-Python reimplementation of stock Odoo, extrapolated",
            },
        )
    )


if __name__ == "__main__":
    main()
