"""Text blocks with ``{{placeholder}}`` fields filled from the ERP data of a case."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields

PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class PlaceholderContext:
    """Values a text block may use; empty strings where the ERP has nothing."""

    customer_name: str = ""
    last_order_number: str = ""
    last_order_state: str = ""
    tracking_link: str = ""
    open_invoice_amount: str = ""
    case_number: str = ""
    agent_name: str = ""


PLACEHOLDERS = tuple(field.name for field in fields(PlaceholderContext))


@dataclass(frozen=True, slots=True)
class RenderResult:
    """The rendered text, placeholders we do not know and known ones that had no value."""

    text: str
    unknown: tuple[str, ...]
    empty: tuple[str, ...]


def render(template: str, context: PlaceholderContext, escape_html: bool = True) -> RenderResult:
    """Replace each ``{{name}}`` of ``template`` with the value of ``context``.

    Unknown placeholders are left in the text untouched and reported, so the agent sees
    them before sending; values are HTML-escaped unless ``escape_html`` is false.
    """
    unknown: list[str] = []
    empty: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            if name not in unknown:
                unknown.append(name)
            return match.group(0)
        value = getattr(context, name)
        if not value and name not in empty:
            empty.append(name)
        return html.escape(value) if escape_html else value

    text = PLACEHOLDER_RE.sub(substitute, template or "")
    return RenderResult(text, tuple(unknown), tuple(empty))
