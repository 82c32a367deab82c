"""Compose the invitation body from ordered, optional blocks.

Blocks are HTML snippets (already in the customer's language) with placeholders in
braces. A block may be limited to sales teams, languages and platforms (empty = any).
``product`` blocks are repeated once per product link, ``link`` blocks once per
shop-level link; the other kinds appear once. Every value is HTML-escaped. The body
must end up containing the one-click opt-out link (UWG §7(3) asks for it in every
mail), so a mail without a visible ``legal`` block carrying ``{optout_link}`` is
refused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...mail_crm_shop.services.errors import PermanentError

BLOCK_KINDS = ("greeting", "thanks", "product", "link", "help", "legal")
COMMON_PLACEHOLDERS = ("customer", "order", "shop", "optout_link", "optout_url")
LINK_PLACEHOLDERS = ("product", "platform", "link", "link_url")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    body: str
    sequence: int = 10
    team_ids: frozenset[int] = frozenset()
    langs: frozenset[str] = frozenset()
    platform_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class MailLink:
    platform_id: int
    platform_name: str
    url: str
    product_name: str = ""  # empty for a shop-level link


@dataclass(frozen=True, slots=True)
class MailContext:
    customer: str
    order: str
    shop: str
    lang: str
    team_id: int | None
    links: tuple[MailLink, ...]
    optout_url: str


def allowed_placeholders(kind: str) -> tuple[str, ...]:
    """Placeholders a block of ``kind`` may use."""
    if kind not in BLOCK_KINDS:
        raise PermanentError(f"unknown block kind {kind!r}")
    if kind in ("product", "link"):
        return COMMON_PLACEHOLDERS + LINK_PLACEHOLDERS
    return COMMON_PLACEHOLDERS


def check_block(kind: str, body: str) -> None:
    """Reject placeholders a block of ``kind`` cannot fill (raises PermanentError)."""
    allowed = allowed_placeholders(kind)
    for name in _PLACEHOLDER.findall(body or ""):
        if name not in allowed:
            names = ", ".join("{%s}" % n for n in allowed)
            raise PermanentError(f"unknown placeholder {{{name}}} in a {kind} block; use {names}")


def _anchor(url: str, label: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'


def _fill(body: str, values: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise PermanentError(f"unknown placeholder {{{name}}} in a mail block")
        return values[name]

    return _PLACEHOLDER.sub(replace, body)


def _visible(block: Block, ctx: MailContext, platform_ids: Iterable[int]) -> bool:
    if block.team_ids and ctx.team_id not in block.team_ids:
        return False
    if block.langs and ctx.lang not in block.langs:
        return False
    return not block.platform_ids or bool(block.platform_ids & set(platform_ids))


def compose(blocks: Sequence[Block], ctx: MailContext, optout_label: str = "") -> str:
    """Return the HTML body for ``ctx`` built from ``blocks`` in sequence order."""
    if not ctx.links:
        raise PermanentError("an invitation needs at least one review link")
    common = {
        "customer": html.escape(ctx.customer),
        "order": html.escape(ctx.order),
        "shop": html.escape(ctx.shop),
        "optout_url": html.escape(ctx.optout_url, quote=True),
        "optout_link": _anchor(ctx.optout_url, optout_label or ctx.optout_url),
    }
    all_platforms = {link.platform_id for link in ctx.links}
    parts = []
    for block in sorted(blocks, key=lambda b: b.sequence):
        check_block(block.kind, block.body)
        if block.kind in ("product", "link"):
            wanted = [
                link
                for link in ctx.links
                if bool(link.product_name) == (block.kind == "product")
                and _visible(block, ctx, {link.platform_id})
            ]
            for link in wanted:
                values = {
                    **common,
                    "product": html.escape(link.product_name),
                    "platform": html.escape(link.platform_name),
                    "link_url": html.escape(link.url, quote=True),
                    "link": _anchor(link.url, link.product_name or link.platform_name),
                }
                parts.append(_fill(block.body, values))
        elif _visible(block, ctx, all_platforms):
            parts.append(_fill(block.body, common))
    body = "\n".join(parts)
    if html.escape(ctx.optout_url, quote=True) not in body:
        raise PermanentError("the mail has no legal notice block with {optout_link}")
    if not any(html.escape(link.url, quote=True) in body for link in ctx.links):
        raise PermanentError("no block shows the review links ({link} in a product/link block)")
    return body
