import pytest

from shopaddons.mail_crm_shop.services.errors import PermanentError
from shopaddons.review_request.services.compose import (
    Block,
    MailContext,
    MailLink,
    check_block,
    compose,
)

OPTOUT = "https://shop.example/review/optout/tok"
LINKS = (
    MailLink(1, "Shop", "https://shop.example/r/tea", "Tea <green>"),
    MailLink(1, "Shop", "https://shop.example/r/mug", "Mug"),
    MailLink(2, "Google", "https://g.page/r/x", ""),
)
BLOCKS = (
    Block("legal", "<p>Opt out: {optout_link}</p>", 90),
    Block("greeting", "<p>Hallo {customer},</p>", 1),
    Block("product", "<li>{product}: {link}</li>", 20),
    Block("link", "<p>Rate us on {platform}: {link}</p>", 30),
)


def _ctx(**overrides):
    values = {
        "customer": "Max & Moritz",
        "order": "SO1",
        "shop": "Shop",
        "lang": "de_DE",
        "team_id": 7,
        "links": LINKS,
        "optout_url": OPTOUT,
    }
    values.update(overrides)
    return MailContext(**values)


def test_blocks_in_sequence_with_one_product_block_per_product():
    body = compose(BLOCKS, _ctx(), optout_label="Abmelden")
    assert body.splitlines() == [
        "<p>Hallo Max &amp; Moritz,</p>",
        '<li>Tea &lt;green&gt;: <a href="https://shop.example/r/tea">Tea &lt;green&gt;</a></li>',
        '<li>Mug: <a href="https://shop.example/r/mug">Mug</a></li>',
        '<p>Rate us on Google: <a href="https://g.page/r/x">Google</a></p>',
        f'<p>Opt out: <a href="{OPTOUT}">Abmelden</a></p>',
    ]


@pytest.mark.parametrize(
    ("condition", "shown"),
    [
        ({"team_ids": frozenset({7})}, True),
        ({"team_ids": frozenset({8})}, False),
        ({"langs": frozenset({"de_DE"})}, True),
        ({"langs": frozenset({"en_US"})}, False),
        ({"platform_ids": frozenset({2})}, True),
        ({"platform_ids": frozenset({3})}, False),
    ],
)
def test_optional_blocks(condition, shown):
    blocks = (*BLOCKS, Block("help", "<p>HELP</p>", 50, **condition))
    assert ("HELP" in compose(blocks, _ctx())) is shown


def test_platform_condition_filters_product_blocks_per_link():
    blocks = (*BLOCKS, Block("product", "<i>{link_url}</i>", 25, platform_ids=frozenset({9})))
    assert "<i>" not in compose(blocks, _ctx())


def test_legal_notice_is_mandatory():
    with pytest.raises(PermanentError, match="legal notice"):
        compose(BLOCKS[1:], _ctx())


def test_a_legal_block_hidden_by_its_condition_does_not_count():
    blocks = (Block("legal", "{optout_link}", 90, langs=frozenset({"en_US"})), *BLOCKS[1:])
    with pytest.raises(PermanentError, match="legal notice"):
        compose(blocks, _ctx())


def test_links_must_be_shown():
    with pytest.raises(PermanentError, match="review links"):
        compose(BLOCKS[:2], _ctx())


def test_no_links_no_mail():
    with pytest.raises(PermanentError, match="at least one review link"):
        compose(BLOCKS, _ctx(links=()))


@pytest.mark.parametrize(
    ("kind", "body"),
    [("greeting", "{product}"), ("legal", "{link}"), ("help", "{nope}"), ("product", "{}")],
)
def test_check_block_rejects_placeholders_the_kind_cannot_fill(kind, body):
    with pytest.raises(PermanentError, match="unknown placeholder"):
        check_block(kind, body)


def test_check_block_accepts_link_placeholders_in_link_blocks():
    check_block("link", "{platform} {link} {link_url} {customer} {optout_url}")


def test_unknown_kind():
    with pytest.raises(PermanentError, match="unknown block kind"):
        check_block("footer", "")
