import pytest

from shopaddons.review_request.services.replies import is_auto_reply


@pytest.mark.parametrize(
    "subject",
    [
        "Automatische Antwort: Wie gefällt Ihnen Ihre Bestellung?",
        "AW: Abwesenheitsnotiz",
        "Out of Office: How did you like your order S00042?",
        "Auto-Reply: How did you like your order?",
        "Automatic reply: Re: your order",
        "OOO: back on Monday",
    ],
)
def test_auto_replies(subject):
    assert is_auto_reply(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "Re: How did you like your order S00042?",
        "AW: Wie gefällt Ihnen Ihre Bestellung?",
        "Ware kaputt, bitte um Rückruf",
        "Ich bin nicht zufrieden",
        "I am out of patience with this order",
        "Autoteile falsch geliefert",
        "",
        None,
    ],
)
def test_customer_replies(subject):
    assert not is_auto_reply(subject)
