import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.review_request.services.links import (
    LinkValues,
    is_product_template,
    render_link,
    template_placeholders,
)

TEMPLATE = "https://shop.example/review?order={order}&p={product}&gtin={ean}&hl={lang}"


def test_render_fills_every_placeholder():
    values = LinkValues(order="SO042", product="Tee", ean="4006381333931", lang="de_DE")
    assert render_link(TEMPLATE, values) == (
        "https://shop.example/review?order=SO042&p=Tee&gtin=4006381333931&hl=de_DE"
    )


def test_values_are_url_encoded():
    values = LinkValues(order="SO 1/2", product="Tee & Kaffee?#", ean="1", lang="de")
    link = render_link(TEMPLATE, values)
    assert "order=SO%201%2F2" in link
    assert "p=Tee%20%26%20Kaffee%3F%23" in link


def test_template_without_placeholders_is_fine():
    assert render_link("https://g.page/r/abc/review", LinkValues()) == (
        "https://g.page/r/abc/review"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("https://x.example/{customer}", "unknown placeholder {customer}"),
        ("https://x.example/{0}", "empty placeholder"),
        ("https://x.example/{}", "empty placeholder"),
        ("https://x.example/{order:>10}", "format or conversion"),
        ("https://x.example/{order!r}", "format or conversion"),
        ("https://x.example/{order", "unbalanced"),
        ("ftp://x.example/{order}", "https://"),
        ("javascript:alert(1)", "https://"),
        ("   ", "empty"),
    ],
)
def test_bad_templates_are_rejected_with_a_clear_error(template, message):
    with pytest.raises(PermanentError, match=message.replace("{", r"\{").replace("?", r"\?")):
        template_placeholders(template)


def test_missing_value_is_refused():
    with pytest.raises(PermanentError, match=r"needs \{ean\}"):
        render_link("https://x.example/{ean}", LinkValues(order="SO1"))


def test_product_template_detection():
    assert is_product_template("https://x.example/{ean}")
    assert not is_product_template("https://x.example/{order}")


@given(st.text(min_size=1, max_size=40))
def test_any_value_stays_inside_its_query_parameter(value):
    link = render_link("https://x.example/r?o={order}&x=1", LinkValues(order=value))
    assert link.startswith("https://x.example/r?o=")
    assert link.endswith("&x=1")
    assert link.count("&") == 1 and "#" not in link and " " not in link
