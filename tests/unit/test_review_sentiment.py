import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.review_request.services.sentiment import (
    NEGATIVE_TERMS,
    analyse,
    find_rating,
    own_text,
)


@pytest.mark.parametrize(
    "text",
    [
        "Die Ware kam kaputt an, ich bin sehr enttäuscht.",
        "Nie wieder bestelle ich hier!",
        "The package arrived damaged and I want a refund.",
        "Worst shop ever.",
        "Ich gebe 1 Stern.",
        "2/5, leider.",
        "Bewertung: 2 von 5",
        "★☆☆☆☆",
        "Nur einen Stern wert.",
    ],
)
def test_complaints(text):
    assert analyse(text).is_complaint


@pytest.mark.parametrize(
    "text",
    [
        "Alles super, vielen Dank!",
        "Great product, fast delivery.",
        "Gar nicht schlecht!",
        "Not bad at all.",
        "5 Sterne von mir",
        "★★★★★ - the old one was broken, this one works",
        "",
    ],
)
def test_no_complaint(text):
    assert not analyse(text).is_complaint


def test_rating_and_terms_are_reported():
    result = analyse("Leider defekt. 1/5")
    assert result.rating == 1
    assert "defekt" in result.matched_terms


def test_three_stars_leave_the_decision_to_the_words():
    assert analyse("3 Sterne, Lieferung beschädigt").is_complaint
    assert not analyse("3 Sterne, ganz ok").is_complaint


@pytest.mark.parametrize(
    ("text", "rating"),
    [("4 stars", 4), ("★★☆☆☆", 2), ("1 von 5", 1), ("one star", 1), ("nothing", None)],
)
def test_find_rating(text, rating):
    assert find_rating(text) == rating


def test_quoted_invitation_is_ignored():
    reply = (
        "Danke, alles gut!\n\n"
        "Am 01.03.2026 um 10:00 schrieb Shop <shop@example.com>:\n"
        "> Bei Problemen oder Beschwerden melden Sie sich bitte.\n"
    )
    assert own_text(reply).strip() == "Danke, alles gut!"
    assert not analyse(reply).is_complaint
    assert not analyse("Super\n> Reklamation? Schreiben Sie uns").is_complaint


@given(st.text(max_size=300))
def test_any_text_is_classified_without_error(text):
    result = analyse(text)
    assert result.rating is None or 0 <= result.rating <= 5
    assert set(result.matched_terms) <= set(NEGATIVE_TERMS)
