import pytest

from shopaddons.mail_crm_shop.services.placeholders import (
    PLACEHOLDERS,
    PlaceholderContext,
    render,
)

CONTEXT = PlaceholderContext(
    customer_name="Erika Muster",
    last_order_number="S00042",
    last_order_state="Sales Order",
    tracking_link="https://track.example/123",
    open_invoice_amount="19,99 €",
)


def test_known_placeholders_are_filled():
    result = render("Hallo {{customer_name}}, Auftrag {{ last_order_number }}.", CONTEXT)
    assert result.text == "Hallo Erika Muster, Auftrag S00042."
    assert result.unknown == ()


def test_unknown_placeholders_stay_and_are_reported_once():
    result = render("{{voucher}} {{customer_name}} {{voucher}}", CONTEXT)
    assert result.text == "{{voucher}} Erika Muster {{voucher}}"
    assert result.unknown == ("voucher",)


def test_empty_values_are_reported():
    result = render("Tracking: {{tracking_link}}", PlaceholderContext(customer_name="X"))
    assert result.text == "Tracking: "
    assert result.empty == ("tracking_link",)


def test_values_are_html_escaped_by_default():
    context = PlaceholderContext(customer_name="<b>Bob & Co</b>")
    assert (
        render("<p>{{customer_name}}</p>", context).text == "<p>&lt;b&gt;Bob &amp; Co&lt;/b&gt;</p>"
    )


def test_plain_text_rendering_does_not_escape():
    context = PlaceholderContext(customer_name="Bob & Co")
    assert render("{{customer_name}}", context, escape_html=False).text == "Bob & Co"


@pytest.mark.parametrize("template", ["", None, "no placeholders", "{single}", "{{ }}"])
def test_templates_without_placeholders_are_unchanged(template):
    assert render(template, CONTEXT).text == (template or "")


def test_every_context_field_is_a_placeholder():
    assert "tracking_link" in PLACEHOLDERS
    assert "open_invoice_amount" in PLACEHOLDERS
