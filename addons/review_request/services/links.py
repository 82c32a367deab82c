"""Review link templates: validation at save time and URL-safe rendering.

A template is a URL with named placeholders in braces, e.g.
``https://shop.example/review?order={order}&sku={ean}&hl={lang}``. Only the
placeholders in :data:`PLACEHOLDERS` are allowed; every value is percent-encoded
so that a product name with ``&`` or a space never breaks the link.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ...mail_crm_shop.services.errors import PermanentError

PLACEHOLDERS = ("order", "product", "ean", "lang")
PRODUCT_PLACEHOLDERS = frozenset({"product", "ean"})


@dataclass(frozen=True, slots=True)
class LinkValues:
    """The values a link template may use; empty strings where unknown."""

    order: str = ""
    product: str = ""
    ean: str = ""
    lang: str = ""


def template_placeholders(template: str) -> frozenset[str]:
    """Return the placeholder names of ``template``; reject anything not allowed.

    Raises :class:`PermanentError` with an explanation for unknown or positional
    placeholders, format specs/conversions, unbalanced braces and non-HTTP(S) URLs.
    """
    if not template or not template.strip():
        raise PermanentError("the link template is empty")
    scheme = urlsplit(template.strip()).scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentError(f"the link template must start with https:// (got {template!r})")
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PermanentError(f"the link template has unbalanced braces: {exc}") from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise PermanentError("the link template has an empty placeholder {}")
        if spec or conversion:
            raise PermanentError(f"placeholder {{{field}}} must not carry a format or conversion")
        if field not in PLACEHOLDERS:
            allowed = ", ".join("{%s}" % name for name in PLACEHOLDERS)
            raise PermanentError(f"unknown placeholder {{{field}}}; allowed are {allowed}")
        names.add(field)
    return frozenset(names)


def is_product_template(template: str) -> bool:
    """True if the template names a product ({product} or {ean})."""
    return bool(template_placeholders(template) & PRODUCT_PLACEHOLDERS)


def render_link(template: str, values: LinkValues) -> str:
    """Return the link for ``values``; each value is percent-encoded.

    A placeholder whose value is empty is a :class:`PermanentError`: a review link
    without its order number or product would send the customer to the wrong page.
    """
    names = template_placeholders(template)
    encoded = {}
    for name in names:
        value = getattr(values, name)
        if not value:
            raise PermanentError(f"the link template needs {{{name}}} but it is empty")
        encoded[name] = quote(str(value), safe="")
    return template.strip().format(**encoded)
