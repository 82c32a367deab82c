"""Explainable matching: every rule, the auto-confirm decision and the odd cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shopaddons.shop_connector.services.matching import match_all, match_transaction
from shopaddons.shop_connector.services.matching_index import CandidateIndex
from shopaddons.shop_connector.services.matching_normalise import (
    name_similarity,
    payer_name_key,
    rf_is_valid,
)
from shopaddons.shop_connector.services.matching_scoring import score_candidate
from shopaddons.shop_connector.services.matching_types import POINTS, Candidate, MatchSettings
from shopaddons.shop_connector.services.payments import BankTransaction

D = Decimal
ORDER_DAY = date(2026, 3, 1)

MUELLER = Candidate(
    "order",
    1,
    "SO-004711",
    partner_id=10,
    partner_names=("Hans-Jürgen Müller",),
    partner_ibans=("DE89 3704 0044 0532 0130 00",),
    amount_due=D("119.90"),
    date=ORDER_DAY,
)
SCHAEFER = Candidate(
    "order",
    2,
    "SO-004712",
    partner_id=11,
    partner_names=("Sophie Schäfer",),
    partner_emails=("sophie@example.com",),
    amount_due=D("59.95"),
    date=ORDER_DAY,
)
INVOICE_A = Candidate(
    "invoice",
    3,
    "SO-004713",
    invoice_number="RE 2026/0815",
    structured_ref="RF18 5390 0754 7034",
    partner_id=12,
    partner_names=("Erika Mustermann",),
    amount_due=D("120.00"),
    date=ORDER_DAY,
)
INVOICE_B = Candidate(
    "invoice",
    4,
    "SO-004714",
    invoice_number="RE 2026/0816",
    partner_id=12,
    partner_names=("Erika Mustermann",),
    amount_due=D("180.00"),
    date=ORDER_DAY,
)
DOLLAR = Candidate(
    "order", 5, "SO-004715", partner_id=13, amount_due=D("80.00"), currency="USD", date=ORDER_DAY
)
INDEX = CandidateIndex([MUELLER, SCHAEFER, INVOICE_A, INVOICE_B, DOLLAR])


def _txn(amount, purpose="", name="", iban="", email="", kind="payment", day=None, cur="EUR"):
    return BankTransaction(
        key=f"t:{purpose}:{amount}",
        account="DE02",
        booking_date=day or date(2026, 3, 2),
        value_date=None,
        amount=D(amount),
        currency=cur,
        counterparty_name=name,
        counterparty_iban=iban,
        counterparty_email=email,
        purpose=purpose,
        kind=kind,
    )


def _rules(proposal):
    return {e.rule: e.points for e in proposal.evidence}


def test_reference_and_amount_auto_confirm_with_full_explanation():
    result = match_transaction(
        _txn("119.90", "Bestellung SO-004711 Danke", "Müller, Hans-Jürgen"), INDEX
    )
    assert result.auto_confirm is not None
    assert result.auto_confirm.candidate_ids == (1,)
    assert not result.needs_person
    top = result.proposals[0]
    assert _rules(top) == {
        "reference_exact": 50,
        "amount_equal": 30,
        "payer_name": 15,
        "date_plausible": 5,
    }
    assert top.score == 100
    assert all(e.detail for e in top.evidence)


@pytest.mark.parametrize(
    ("purpose", "rule"),
    [
        ("SO004711", "reference_exact"),
        ("so 0047 11", "reference_exact"),
        ("Best.-Nr. SO-004711.", "reference_exact"),
        ("S0-0O4711", "reference_mangled"),  # OCR: 0/O swapped
        ("SO-0047l1", "reference_mangled"),  # l for 1
        ("004711", "reference_mangled"),  # prefix missing
        ("Auftrag 4711 4711", None),  # too short to be trusted without prefix
        ("SO-004710", None),  # another number is not a near miss
    ],
)
def test_reference_tolerance(purpose, rule):
    found = INDEX.find_references(purpose)
    if rule is None:
        assert 1 not in found
    else:
        assert found[1].rule == rule
        assert found[1].points == POINTS[rule]


def test_invoice_number_and_structured_reference():
    found = INDEX.find_references("RF18 5390 0754 7034, RE-2026-0816")
    assert found[3].rule == "structured_reference"
    assert found[4].rule == "reference_exact"
    assert "invoice number" in found[4].detail


def test_rf_checksum():
    assert rf_is_valid("RF18 5390 0754 7034")
    assert not rf_is_valid("RF19 5390 0754 7034")
    assert not rf_is_valid("SO-004711")


def test_mangled_reference_alone_is_not_auto_confirmed():
    result = match_transaction(_txn("119.90", "S0-0O4711"), INDEX)
    assert result.proposals[0].candidate_ids == (1,)
    assert result.auto_confirm is None
    assert "below 80" in result.reason


def test_mangled_reference_with_matching_payer_is_confirmed():
    result = match_transaction(_txn("119.90", "S0-0O4711", "Hans Juergen Mueller"), INDEX)
    assert result.auto_confirm is not None
    assert result.auto_confirm.candidate_ids == (1,)


def test_known_iban_without_reference_is_proposed_not_confirmed():
    result = match_transaction(
        _txn("119.90", "Danke", "H. Müller", "DE89370400440532013000"), INDEX
    )
    top = result.proposals[0]
    assert top.candidate_ids == (1,)
    assert _rules(top)["payer_known"] == 25
    assert result.auto_confirm is None


def test_learned_payer_iban_and_paypal_email():
    known = {"DE11111111111111111111": 11, "oma@example.com": 12}
    by_iban = match_transaction(
        _txn("59.95", "", "Oma Schäfer", "DE11111111111111111111"), INDEX, known
    )
    assert by_iban.proposals[0].candidate_ids == (2,)
    assert "paid for them before" in by_iban.proposals[0].evidence[1].detail
    by_mail = match_transaction(_txn("120.00", "", email="OMA@example.com"), INDEX, known)
    assert by_mail.proposals[0].candidate_ids == (3,)
    direct = match_transaction(_txn("59.95", "", email="sophie@example.com"), INDEX)
    assert "payer_known" in _rules(direct.proposals[0])


@pytest.mark.parametrize(
    ("amount", "rule", "reason"),
    [
        ("119.50", "amount_within_tolerance", "amount differs by -0.40"),
        ("100.00", "amount_partial", "partial payment: 100.00 of 119.90"),
        ("150.00", "amount_overpaid", "overpayment: 150.00"),
    ],
)
def test_amount_differences_need_a_person(amount, rule, reason):
    result = match_transaction(_txn(amount, "SO-004711", "Hans-Jürgen Müller"), INDEX)
    top = result.proposals[0]
    assert top.candidate_ids == (1,)
    assert rule in _rules(top)
    assert top.needs_person
    assert reason in top.reason
    assert result.auto_confirm is None
    assert result.needs_person


def test_a_zero_amount_is_no_amount_evidence_and_no_reason():
    proposal = score_candidate(_txn("0.00", "SO-004711"), MUELLER, None, None, MatchSettings())
    assert not [e.rule for e in proposal.evidence if e.rule.startswith("amount")]
    assert not proposal.needs_person
    assert proposal.reason == ""


def test_foreign_currency_needs_a_person():
    result = match_transaction(_txn("80.00", "SO-004715"), INDEX)
    top = result.proposals[0]
    assert top.candidate_ids == (5,)
    assert "currency_differs" in _rules(top)
    assert "foreign currency" in result.reason
    assert result.auto_confirm is None


def test_collective_payment_is_one_multi_candidate_proposal():
    result = match_transaction(
        _txn("300.00", "RE 2026/0815 und RE 2026/0816", "Erika Mustermann"), INDEX
    )
    top = result.proposals[0]
    assert top.candidate_ids == (3, 4)
    assert _rules(top)["collective_amount"] == 30
    assert result.auto_confirm is top  # the single invoices are parts of it, not rivals


def test_collective_needs_the_exact_sum():
    result = match_transaction(_txn("290.00", "RE 2026/0815 RE 2026/0816"), INDEX)
    assert all(len(p.candidate_ids) == 1 for p in result.proposals)
    assert result.auto_confirm is None


@pytest.mark.parametrize(
    ("amount", "kind", "reason"),
    [
        ("-119.90", "payment", "outgoing money"),
        ("-119.90", "refund", "outgoing money"),
        ("-119.90", "reversal", "reversal (returned payment)"),
    ],
)
def test_outgoing_money_is_never_auto_confirmed(amount, kind, reason):
    result = match_transaction(_txn(amount, "SO-004711", kind=kind), INDEX)
    assert result.proposals[0].candidate_ids == (1,)
    assert result.auto_confirm is None
    assert reason in result.reason


@pytest.mark.parametrize("kind", ["fee", "conversion", "transfer"])
def test_fees_and_conversions_go_to_a_person_without_proposals(kind):
    result = match_transaction(_txn("-2.63", "SO-004711", kind=kind), INDEX)
    assert result.proposals == ()
    assert result.needs_person
    assert result.reason


def test_nothing_found():
    result = match_transaction(_txn("1.00", "Spende"), INDEX)
    assert result.proposals == ()
    assert result.reason == "no open order or invoice fits"


def test_two_open_candidates_with_the_same_reference_are_ambiguous():
    twin = Candidate("invoice", 9, "SO-004711", amount_due=D("119.90"), date=ORDER_DAY)
    index = CandidateIndex([MUELLER, twin])
    result = match_transaction(_txn("119.90", "SO-004711"), index)
    assert {p.candidate_ids for p in result.proposals} == {(1,), (9,)}
    assert result.auto_confirm is None
    assert "ambiguous" in result.reason


def test_payment_long_before_the_order_is_implausible():
    result = match_transaction(_txn("119.90", "SO-004711", day=date(2026, 1, 1)), INDEX)
    top = result.proposals[0]
    assert _rules(top)["date_before_order"] == -25
    assert result.auto_confirm is None


def test_very_late_payment_loses_points():
    result = match_transaction(_txn("119.90", "SO-004711", day=date(2026, 12, 1)), INDEX)
    assert _rules(result.proposals[0])["date_very_late"] == -10


def test_amount_alone_in_a_crowded_bucket_only_with_a_name():
    crowd = [
        Candidate("order", 100 + i, f"SO-9{i:05d}", partner_id=100 + i, amount_due=D("19.99"),
                  partner_names=(f"Kunde {i:03d} Nummer",))
        for i in range(40)
    ]  # fmt: skip
    crowd.append(
        Candidate("order", 999, "SO-999999", partner_id=999, partner_names=("Lena Vogel",),
                  amount_due=D("19.99"))
    )  # fmt: skip
    index = CandidateIndex(crowd)
    settings = MatchSettings(amount_bucket_limit=25)
    assert match_transaction(_txn("19.99", "Danke"), index, settings=settings).proposals == ()
    named = match_transaction(_txn("19.99", "Danke", "Vogel, Lena"), index, settings=settings)
    assert [p.candidate_ids for p in named.proposals] == [(999,)]


@pytest.mark.parametrize(
    ("payer", "customer", "low", "high"),
    [
        ("Müller, Hans-Jürgen", "Hans-Jürgen Müller", 1.0, 1.0),
        ("MUELLER HANS JUERGEN", "Hans-Jürgen Müller", 1.0, 1.0),
        ("Gartenwelt Schmidt GmbH", "Gartenwelt Schmidt", 1.0, 1.0),
        ("Dr. Maria Schmidt", "M. Schmidt", 0.75, 0.99),
        ("Peter Lang", "Erika Mustermann", 0.0, 0.5),
        ("", "Erika Mustermann", 0.0, 0.0),
    ],
)
def test_name_similarity(payer, customer, low, high):
    assert low <= name_similarity(payer, customer) <= high


def test_duplicate_candidate_ids_are_refused():
    with pytest.raises(ValueError, match="given twice"):
        CandidateIndex([MUELLER, MUELLER])


def test_match_all_keeps_order():
    results = match_all(
        [_txn("59.95", "SO-004712"), _txn("119.90", "SO-004711")], [MUELLER, SCHAEFER]
    )
    assert [r.proposals[0].candidate_ids for r in results] == [(2,), (1,)]


def test_generated_labelled_set_keeps_the_quality_targets():
    """The benchmark's planted ground truth, small: no wrong auto-match, >= 95 % first."""
    from benchmarks.payment_matching import evaluate, generate, run_ours

    candidates, cases = generate(400, seed=7)
    _seconds, picks = run_ours(candidates, cases)
    quality = evaluate(cases, picks)
    assert quality["wrong_auto"] == []
    assert quality["auto_precision"] == 1.0
    assert quality["auto_confirmed"] > len(cases) / 2
    assert quality["recall_first"] >= 0.95


# --- learned payer names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("learned", "payer"),
    [
        ("Müller, Hans-Jürgen", "HANS JUERGEN MUELLER"),
        ("Oma  Schäfer", "schaefer oma"),
        ("Gartenwelt Schmidt GmbH", "Gartenwelt Schmidt"),
        ("Blumen Meyer G.m.b.H. & Co. KG", "BLUMEN MEYER"),
        ("Meyer e. K.", "Meyer"),
        ("Straßenbau Kühn UG (haftungsbeschränkt)", "STRASSENBAU KUEHN"),
        ("Dr. Sophie Schäfer", "Frau Sophie Schaefer"),
        ("Zoë Lefèvre", "Zoe Lefevre"),
    ],
)
def test_payer_name_key_ignores_spelling_and_legal_forms(learned, payer):
    assert payer_name_key(learned)
    assert payer_name_key(learned) == payer_name_key(payer)


@pytest.mark.parametrize(
    ("learned", "payer"),
    [
        ("M. Schmidt", "K. Schmidt"),  # initials are kept
        ("M. Schmidt", "Schmidt"),
        ("Oma Schäfer", "Sophie Schäfer"),
        ("Hans Müller", "Hans Müller-Lüdenscheidt"),
    ],
)
def test_payer_name_key_keeps_different_names_apart(learned, payer):
    assert payer_name_key(learned) != payer_name_key(payer)


@pytest.mark.parametrize("name", ["", "  ", "GmbH", "A.", "Herr Dr."])
def test_payer_name_key_of_no_name_is_empty(name):
    assert payer_name_key(name) == ()


def test_learned_name_rule_sits_between_iban_and_fuzzy_name():
    assert POINTS["payer_known"] > POINTS["payer_name_learned"] > POINTS["payer_name_strong"]


def test_learned_payer_name_raises_the_score_with_its_own_evidence():
    txn = _txn("59.95", "Danke", "SCHAEFER, OMA")
    before = match_transaction(txn, INDEX).proposals[0]
    assert before.candidate_ids == (2,)
    assert "payer_name_learned" not in _rules(before)
    index = CandidateIndex([MUELLER, SCHAEFER, INVOICE_A, INVOICE_B], {"Oma Schäfer": 11})
    result = match_transaction(txn, index)
    after = result.proposals[0]
    assert after.candidate_ids == (2,)
    assert _rules(after)["payer_name_learned"] == POINTS["payer_name_learned"]
    assert after.score == before.score + POINTS["payer_name_learned"]
    learned = next(e for e in after.evidence if e.rule == "payer_name_learned")
    assert learned.detail == "payer name 'SCHAEFER, OMA' paid for them before"
    assert result.auto_confirm is None  # no reference: a person confirms


def test_learned_name_replaces_the_fuzzy_name_rule():
    index = CandidateIndex([MUELLER, SCHAEFER], {"Sophie Schäfer": 11})
    top = match_transaction(_txn("59.95", "Danke", "Sophie Schäfer"), index).proposals[0]
    assert _rules(top) == {"amount_equal": 30, "payer_name_learned": 20, "date_plausible": 5}


def test_learned_name_is_never_enough_for_auto_confirm():
    index = CandidateIndex([MUELLER, SCHAEFER], {"Oma Schäfer": 11})
    known = {"DE11111111111111111111": 11}
    txn = _txn("59.95", "Danke", "Oma Schäfer", "DE11111111111111111111")
    result = match_transaction(txn, index, known)
    top = result.proposals[0]
    assert top.candidate_ids == (2,)
    assert top.score >= MatchSettings().auto_threshold  # learned name + IBAN + amount
    assert result.auto_confirm is None
    assert result.needs_person
    assert "below 80" in result.reason


def test_learned_name_with_a_reference_confirms_as_a_fuzzy_name_would():
    index = CandidateIndex([MUELLER, SCHAEFER], {"Oma Müller": 10})
    result = match_transaction(_txn("119.90", "S0-0O4711", "Oma Mueller"), index)
    assert result.auto_confirm is not None
    assert result.auto_confirm.candidate_ids == (1,)
    assert "payer_name_learned" in _rules(result.auto_confirm)


def test_learned_name_finds_the_customer_in_a_crowded_amount_bucket():
    crowd = [
        Candidate("order", 100 + i, f"SO-9{i:05d}", partner_id=100 + i, amount_due=D("19.99"))
        for i in range(40)
    ]
    crowd.append(Candidate("order", 999, "SO-999999", partner_id=999, amount_due=D("19.99")))
    settings = MatchSettings(amount_bucket_limit=25)
    txn = _txn("19.99", "Danke", "Vogel Opa")
    assert match_transaction(txn, CandidateIndex(crowd), settings=settings).proposals == ()
    index = CandidateIndex(crowd, {"Opa Vogel": 999})
    result = match_transaction(txn, index, settings=settings)
    assert [p.candidate_ids for p in result.proposals] == [(999,)]
    assert result.auto_confirm is None


def test_a_name_learned_for_two_customers_favours_neither():
    index = CandidateIndex([MUELLER, SCHAEFER], {"Kasse Familie": 10, "KASSE, FAMILIE": 11})
    result = match_transaction(_txn("10.00", "Danke", "Familie Kasse"), index)
    assert {p.candidate_ids for p in result.proposals} == {(1,), (2,)}
    for proposal in result.proposals:
        details = {e.rule: e.detail for e in proposal.evidence}
        assert "and for 1 other customer(s)" in details["payer_name_learned"]
    assert result.proposals[0].score == result.proposals[1].score
    assert result.auto_confirm is None


def test_collective_payment_counts_a_learned_name_once():
    index = CandidateIndex([INVOICE_A, INVOICE_B], {"Max Mustermann": 12})
    result = match_transaction(
        _txn("300.00", "RE 2026/0815 und RE 2026/0816", "Max Mustermann"), index
    )
    top = result.proposals[0]
    assert top.candidate_ids == (3, 4)
    assert _rules(top)["payer_name_learned"] == 20
    assert "payer_name" not in _rules(top)
    assert result.auto_confirm is top


def test_match_all_takes_learned_names():
    txn = _txn("59.95", "Danke", "Oma Schäfer")
    plain, learned = (
        match_all([txn], [MUELLER, SCHAEFER], learned_names=names)[0].proposals[0]
        for names in (None, {"oma schaefer": 11})
    )
    assert "payer_name_learned" not in _rules(plain)
    assert _rules(learned)["payer_name_learned"] == 20
