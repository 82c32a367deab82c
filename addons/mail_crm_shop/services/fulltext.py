"""PostgreSQL full-text search pieces: query building, highlighting, attachment text.

The search bar speaks the web-search syntax PostgreSQL's ``websearch_to_tsquery`` knows:
words (all must match), ``"quoted phrases"``, ``-exclusions`` and ``or``. User input is
normalised first (typographic quotes, control characters and NUL bytes, which PostgreSQL
refuses in text, dangling ``or``, punctuation-only tokens, length) into a canonical string,
then combined for several text-search configurations - German and English by default,
since the documents are indexed as ``to_tsvector('german', x) || to_tsvector('english', x)``
- into one parameterised SQL fragment::

    (websearch_to_tsquery(%s::regconfig, %s) || websearch_to_tsquery(%s::regconfig, %s))

The user's text only ever travels as a query parameter, never inside the SQL.

Snippets: ``ts_headline`` marks hits with the control characters STX/ETX (which are removed
from the document first), :func:`highlight_to_html` escapes the snippet and turns the marks
into ``<mark>`` - so mail content can never inject markup.

Attachments: :func:`extract_text` returns the text of text/plain, text/html and PDF (via
``pypdf``, or ``PyPDF2``, when importable; otherwise empty text with the reason).
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

try:  # optional: Odoo ships one of them, the pure layer does not require it
    import pypdf as _pdf
except ImportError:  # pragma: no cover - depends on the installation
    try:
        import PyPDF2 as _pdf
    except ImportError:
        _pdf = None

DEFAULT_CONFIGS = ("german", "english")
HIT_START, HIT_STOP = "\x02", "\x03"
_CONFIG_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,62}(?:\.[a-z_][a-z0-9_]{0,62})?")
_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02", '"'))
_TOKEN = re.compile(r'(-?)"([^"]*)(?:"|$)|([^\s"]+)')
_OR = "or"


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One piece of the search: a word or a phrase, maybe excluded."""

    text: str
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class TsQuery:
    """A normalised search, ready for SQL."""

    text: str  # canonical web-search string, e.g. 'rechnung "nicht angekommen" -storno'
    configs: tuple[str, ...]
    positive: tuple[str, ...]  # words and phrases that must (or may, with or) appear

    @property
    def empty(self) -> bool:
        """True when nothing positive is searched: run no full-text filter at all."""
        return not self.positive

    def sql(self) -> tuple[str, tuple[str, ...]]:
        """Return ``(fragment, params)`` of the tsquery over all configurations."""
        pieces = " || ".join("websearch_to_tsquery(%s::regconfig, %s)" for _ in self.configs)
        params = tuple(v for config in self.configs for v in (config, self.text))
        return f"({pieces})", params


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """Text of an attachment; ``reason`` says why it is empty or incomplete."""

    text: str
    reason: str = ""


def parse_search(user_input: str, max_length: int = 400, max_terms: int = 16) -> tuple:
    """Split search-bar input into :class:`SearchTerm` items and ``"or"`` markers."""
    text = _normalise(user_input)[:max_length]
    items: list = []
    for match in _TOKEN.finditer(text):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            words = " ".join(w for w in phrase.split() if _has_word_char(w))
            if words:
                items.append(SearchTerm(words, phrase=True, negated=bool(negated)))
        elif word.lower() == _OR:
            items.append(_OR)
        else:
            negated = word.startswith("-")
            word = word.lstrip("-")
            if _has_word_char(word):
                items.append(SearchTerm(word, negated=negated))
    return _tidy(items, max_terms)


def to_tsquery_text(user_input: str, max_length: int = 400, max_terms: int = 16) -> str:
    """Return the canonical, ``websearch_to_tsquery``-safe form of search-bar input."""
    return _render(parse_search(user_input, max_length, max_terms))


def build_tsquery(
    user_input: str,
    configs: Sequence[str] = DEFAULT_CONFIGS,
    max_length: int = 400,
    max_terms: int = 16,
) -> TsQuery:
    """Return the :class:`TsQuery` for ``user_input`` over the text-search ``configs``."""
    configs = tuple(configs)
    if not configs or not all(_CONFIG_NAME.fullmatch(c or "") for c in configs):
        raise ValueError(f"invalid text search configurations {configs!r}")
    items = parse_search(user_input, max_length, max_terms)
    positive = tuple(i.text for i in items if isinstance(i, SearchTerm) and not i.negated)
    return TsQuery(_render(items), configs, positive)


def match_sql(column: str, query: TsQuery) -> tuple[str, tuple[str, ...]]:
    """Return ``(sql, params)`` of the condition ``column @@ query``."""
    fragment, params = query.sql()
    return f"{_column(column)} @@ {fragment}", params


def rank_sql(column: str, query: TsQuery, normalization: int = 32) -> tuple[str, tuple[str, ...]]:
    """Return ``(sql, params)`` of ``ts_rank_cd`` (32: rank / (rank + 1), in 0..1)."""
    fragment, params = query.sql()
    return f"ts_rank_cd({_column(column)}, {fragment}, {int(normalization)})", params


def ranked_search_sql(
    table: str,
    tsv_column: str,
    query: TsQuery,
    limit: int = 20,
    window: int = 1000,
    recent_rows: int = 10_000,
) -> tuple[str, tuple[str, ...]]:
    """Return ``(sql, params)`` selecting ``id, rank`` of the best ``limit`` matches.

    Ranking reads every candidate's tsvector, and a common term matches a large part of a
    mailbox, so the work is bounded whatever the planner estimates (it underestimates
    words that occur together, e.g. "falsche Größe umtauschen"):

    1. look through the newest ``recent_rows`` rows (by ``id``) for up to ``window`` hits;
    2. only if that found fewer than ``limit``, the terms are rare (below
       ``limit / recent_rows`` of the mails): take the newest ``window`` hits from the
       GIN index over the whole table - few rows by the same argument;
    3. rank those hits with ``ts_rank_cd`` (normalisation 32) and return the best ``limit``.

    The tsquery is written inline so the planner folds it to a constant.

    So common terms rank the newest matches (in a team inbox they matter most) and rare
    ones rank all of theirs. ``table`` needs an integer primary key ``id``.
    """
    if not (0 < limit <= window) or recent_rows < limit:
        raise ValueError("search: need 0 < limit <= window and limit <= recent_rows")
    fragment, params = query.sql()
    tsv, table = _column(tsv_column), _column(table)
    limit, window, recent_rows = int(limit), int(window), int(recent_rows)
    rank = f"ts_rank_cd(tsv, {fragment}, 32)"
    # CTEs run only when read: "rare" (and its parallel workers) only when "recent" is short
    sql = (
        f"WITH recent AS MATERIALIZED (SELECT id, {rank} AS rank "
        f"FROM (SELECT id, {tsv} AS tsv FROM {table} ORDER BY id DESC LIMIT {recent_rows}) AS r "
        f"WHERE tsv @@ {fragment} LIMIT {window}), "
        f"rare AS MATERIALIZED (SELECT id, {rank} AS rank "
        f"FROM (SELECT id, {tsv} AS tsv FROM {table}) AS a WHERE tsv @@ {fragment} "
        f"ORDER BY id + 0 DESC LIMIT {window}) "  # + 0: from the GIN index, no long id walk
        "SELECT id, rank FROM ("
        f"SELECT id, rank FROM recent WHERE (SELECT count(*) FROM recent) >= {limit} "
        f"UNION ALL SELECT id, rank FROM rare WHERE (SELECT count(*) FROM recent) < {limit}"
        f") AS hits ORDER BY rank DESC, id DESC LIMIT {limit}"
    )
    return sql, params * 4


def headline_options(
    max_words: int = 35,
    min_words: int = 15,
    short_word: int = 3,
    max_fragments: int = 2,
    fragment_delimiter: str = " … ",
) -> str:
    """Return the ``ts_headline`` option string marking hits with STX/ETX."""
    if not 0 < min_words < max_words:
        raise ValueError("headline: need 0 < min_words < max_words")
    if '"' in fragment_delimiter:
        raise ValueError("headline: the fragment delimiter cannot contain a double quote")
    return (
        f"StartSel={HIT_START}, StopSel={HIT_STOP}, MaxWords={int(max_words)}, "
        f"MinWords={int(min_words)}, ShortWord={int(short_word)}, "
        f'MaxFragments={int(max_fragments)}, FragmentDelimiter="{fragment_delimiter}"'
    )


def headline_sql(
    document_sql: str, query: TsQuery, options: str | None = None
) -> tuple[str, tuple[str, ...]]:
    """Return ``(sql, params)`` of the highlighted snippet of ``document_sql`` (a column).

    Uses the first configuration; STX/ETX already in the document are removed first.
    """
    config = query.configs[0]
    fragment, params = TsQuery(query.text, (config,), query.positive).sql()
    sql = f"ts_headline(%s::regconfig, translate({_column(document_sql)}, %s, ''), {fragment}, %s)"
    return sql, (config, HIT_START + HIT_STOP, *params, options or headline_options())


def highlight_to_html(snippet: str) -> str:
    """Escape a ``ts_headline`` snippet and turn the STX/ETX marks into ``<mark>``."""
    html = escape(snippet or "", quote=True)
    return html.replace(HIT_START, "<mark>").replace(HIT_STOP, "</mark>")


# --- attachment text ---------------------------------------------------------------------


def extract_text(
    data: bytes,
    mimetype: str,
    charset: str | None = None,
    max_chars: int = 200_000,
    max_pages: int = 200,
) -> ExtractedText:
    """Return the searchable text of an attachment (plain text, HTML or PDF)."""
    mimetype = (mimetype or "").split(";", 1)[0].strip().lower()
    if mimetype in ("text/html", "application/xhtml+xml"):
        return _limit(html_to_text(decode_text(data, charset)), max_chars)
    if mimetype.startswith("text/"):
        return _limit(decode_text(data, charset), max_chars)
    if mimetype == "application/pdf":
        return _pdf_text(data, max_chars, max_pages)
    return ExtractedText("", f"no text extraction for {mimetype or 'unknown type'}")


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Decode bytes by the declared charset, a BOM, UTF-8, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if charset and _known_codec(charset):
        return data.decode(charset, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML document (no scripts, styles or tags)."""
    parser = _TextParser()
    parser.feed(html or "")
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _TextParser(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "noscript", "template", "title"})
    _BLOCK = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "tr",
            "td",
            "th",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "blockquote",
            "pre",
            "hr",
            "section",
            "article",
        ]
    )

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n" if tag not in ("td", "th") else " ")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n" if tag not in ("td", "th") else " ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def _pdf_text(data: bytes, max_chars: int, max_pages: int) -> ExtractedText:
    if _pdf is None:
        return ExtractedText("", "PDF text extraction needs the pypdf package")
    try:
        reader = _pdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return ExtractedText("", "PDF is encrypted")
        texts, size = [], 0
        for number, page in enumerate(reader.pages):
            if number >= max_pages:
                return ExtractedText("\n".join(texts), f"only the first {max_pages} pages")
            texts.append(page.extract_text() or "")
            size += len(texts[-1])
            if size > max_chars:
                break
    except Exception as exc:  # noqa: BLE001 - a broken attachment must not stop indexing
        return ExtractedText("", f"unreadable PDF: {type(exc).__name__}: {exc}"[:300])
    return _limit("\n".join(texts), max_chars)


def _limit(text: str, max_chars: int) -> ExtractedText:
    text = text.replace("\x00", "")
    if len(text) > max_chars:
        return ExtractedText(text[:max_chars], f"text cut at {max_chars} characters")
    return ExtractedText(text)


# --- query normalisation -----------------------------------------------------------------


def _normalise(user_input: str) -> str:
    text = unicodedata.normalize("NFC", str(user_input or "")).translate(_QUOTES)
    return "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Zs") else c for c in text
    )


def _has_word_char(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _tidy(items: list, max_terms: int) -> tuple:
    """Drop or-markers that join nothing; keep at most ``max_terms`` terms."""
    tidy: list = []
    count = 0
    for item in items:
        if item == _OR:
            if tidy and tidy[-1] != _OR:
                tidy.append(item)
        elif count < max_terms:
            tidy.append(item)
            count += 1
    while tidy and tidy[-1] == _OR:
        tidy.pop()
    return tuple(tidy)


def _render(items: tuple) -> str:
    out = []
    for item in items:
        if item == _OR:
            out.append(_OR)
        else:
            text = f'"{item.text}"' if item.phrase else item.text
            out.append(("-" if item.negated else "") + text)
    return " ".join(out)


def _column(name: str) -> str:
    if not _COLUMN.fullmatch(name or ""):
        raise ValueError(f"not a plain column name: {name!r}")
    return name
