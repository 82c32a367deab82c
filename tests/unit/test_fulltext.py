"""Full-text query building, snippet highlighting and attachment text extraction."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopaddons.mail_crm_shop.services import fulltext as ft
from shopaddons.mail_crm_shop.services.fulltext import SearchTerm


@pytest.mark.parametrize(
    ("user_input", "canonical"),
    [
        ("Rechnung Müller", "Rechnung Müller"),
        ('  "nicht angekommen"  ', '"nicht angekommen"'),
        ("Rechnung „nicht angekommen“", 'Rechnung "nicht angekommen"'),  # German quotes
        ("Rücksendung -Storno", "Rücksendung -Storno"),
        ('Paket -"an Nachbarn"', 'Paket -"an Nachbarn"'),
        ("Rechnung OR Gutschrift", "Rechnung or Gutschrift"),
        ("or Rechnung or or Gutschrift or", "Rechnung or Gutschrift"),
        ('"offene Phrase', '"offene Phrase"'),
        ('abc"def"', 'abc "def"'),
        ("AB-1234-5 max@example.de", "AB-1234-5 max@example.de"),
        ("SO0815\x00\t\u200bDHL", "SO0815 DHL"),
        ('!!! & | <-> :* -- - ""', ""),
        ("", ""),
        (None, ""),
    ],
)
def test_canonical_search_text(user_input, canonical):
    assert ft.to_tsquery_text(user_input) == canonical


def test_parse_search_items():
    assert ft.parse_search('Rechnung -storno "zu spät" or Mahnung') == (
        SearchTerm("Rechnung"),
        SearchTerm("storno", negated=True),
        SearchTerm("zu spät", phrase=True),
        "or",
        SearchTerm("Mahnung"),
    )


def test_input_is_bounded():
    assert len(ft.to_tsquery_text("x" * 5000)) == 400
    assert ft.to_tsquery_text(" ".join(f"w{i}" for i in range(50))).split() == [
        f"w{i}" for i in range(16)
    ]


def test_sql_fragment_passes_the_text_as_parameters_only():
    query = ft.build_tsquery("x'); DROP TABLE mail; --")
    fragment, params = query.sql()
    assert fragment == (
        "(websearch_to_tsquery(%s::regconfig, %s) || websearch_to_tsquery(%s::regconfig, %s))"
    )
    assert params == ("german", query.text, "english", query.text)
    assert "DROP" not in fragment


def test_positive_terms_and_emptiness():
    query = ft.build_tsquery('Rechnung -Storno "zu spät"')
    assert query.positive == ("Rechnung", "zu spät")
    assert not query.empty
    assert ft.build_tsquery("-Storno").empty  # only exclusions: no full-text filter
    assert ft.build_tsquery("  ").empty


def test_configurations_are_validated():
    assert ft.build_tsquery("x", configs=("simple",)).sql()[1] == ("simple", "x")
    for bad in ((), ("german; drop",), ("German",), ("",)):
        with pytest.raises(ValueError, match="configurations"):
            ft.build_tsquery("x", configs=bad)


def test_match_and_rank_sql():
    query = ft.build_tsquery("Rechnung")
    sql, params = ft.match_sql("m.body_tsv", query)
    assert sql.startswith("m.body_tsv @@ (websearch_to_tsquery(")
    assert params == ("german", "Rechnung", "english", "Rechnung")
    sql, _ = ft.rank_sql("body_tsv", query)
    assert sql.startswith("ts_rank_cd(body_tsv, (") and sql.endswith(", 32)")
    with pytest.raises(ValueError, match="column"):
        ft.match_sql("tsv; DROP TABLE x", query)


def test_ranked_search_sql_is_bounded_and_parameterised():
    query = ft.build_tsquery("Rechnung PDF")
    sql, params = ft.ranked_search_sql("mail", "tsv", query, limit=20, window=500, recent_rows=8000)
    fragment, query_params = query.sql()
    assert params == query_params * 4
    assert sql.count("%s") == len(params)
    assert sql.count(f"tsv @@ {fragment}") == 2
    assert "FROM mail ORDER BY id DESC LIMIT 8000" in sql  # newest rows first, bounded
    assert "ORDER BY id + 0 DESC LIMIT 500" in sql  # rare terms: newest 500 from the index
    assert "WHERE (SELECT count(*) FROM recent) >= 20" in sql
    assert "WHERE (SELECT count(*) FROM recent) < 20" in sql
    assert sql.endswith("ORDER BY rank DESC, id DESC LIMIT 20")
    assert "Rechnung" not in sql
    with pytest.raises(ValueError, match="limit"):
        ft.ranked_search_sql("mail", "tsv", query, limit=50, window=20)
    with pytest.raises(ValueError, match="limit"):
        ft.ranked_search_sql("mail", "tsv", query, limit=20, recent_rows=10)
    with pytest.raises(ValueError, match="column"):
        ft.ranked_search_sql("mail; --", "tsv", query)


def test_headline_options_and_sql():
    options = ft.headline_options(max_words=20, min_words=5, max_fragments=3)
    assert options == (
        "StartSel=\x02, StopSel=\x03, MaxWords=20, MinWords=5, ShortWord=3, "
        'MaxFragments=3, FragmentDelimiter=" … "'
    )
    sql, params = ft.headline_sql("body", ft.build_tsquery("Paket"), options)
    assert sql == (
        "ts_headline(%s::regconfig, translate(body, %s, ''), "
        "(websearch_to_tsquery(%s::regconfig, %s)), %s)"
    )
    assert params == ("german", "\x02\x03", "german", "Paket", options)
    for kwargs in ({"min_words": 40}, {"fragment_delimiter": '"'}):
        with pytest.raises(ValueError, match="headline"):
            ft.headline_options(**kwargs)


def test_highlight_is_html_safe():
    snippet = '<script>x</script> Ihre \x02Rechnung\x03 & "Mahnung"'
    assert ft.highlight_to_html(snippet) == (
        "&lt;script&gt;x&lt;/script&gt; Ihre <mark>Rechnung</mark> &amp; &quot;Mahnung&quot;"
    )


@given(st.text(max_size=300))
def test_any_input_gives_a_safe_canonical_string(user_input):
    text = ft.to_tsquery_text(user_input)
    assert "\x00" not in text
    assert text == text.strip()
    assert text.count('"') % 2 == 0
    assert not text.startswith("or ") and not text.endswith(" or") and text != "or"
    assert ft.to_tsquery_text(text) == text  # canonical form is stable


# --- attachment text ---------------------------------------------------------------------


def test_html_to_text_keeps_only_visible_text():
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Sehr geehrte&nbsp;Frau M&uuml;ller,</p><script>alert(1)</script>"
        "<table><tr><td>Artikel</td><td>Menge</td></tr></table>Gr&#252;&szlig;e<br>Shop</body>"
    )
    assert ft.html_to_text(html) == "Sehr geehrte Frau Müller,\nArtikel Menge\nGrüße\nShop"


@pytest.mark.parametrize(
    ("data", "mimetype", "charset", "text"),
    [
        ("Grüße".encode(), "text/plain", None, "Grüße"),
        ("Grüße".encode("cp1252"), "text/plain", None, "Grüße"),
        ("Grüße".encode("latin-1"), "text/plain; charset=iso-8859-1", "iso-8859-1", "Grüße"),
        ("Grüße".encode(), "text/plain", "no-such-charset", "Grüße"),
        (b"\xef\xbb\xbfa;b", "text/csv", None, "a;b"),
        ("Grüße".encode("utf-16"), "text/plain", None, "Grüße"),
        (b"<p>Hallo <b>Welt</b></p>", "text/html", None, "Hallo Welt"),
    ],
)
def test_extract_text_of_text_parts(data, mimetype, charset, text):
    assert ft.extract_text(data, mimetype, charset) == ft.ExtractedText(text)


def test_unsupported_types_say_so():
    assert ft.extract_text(b"\x89PNG", "image/png") == ft.ExtractedText(
        "", "no text extraction for image/png"
    )


def test_long_text_is_cut_with_a_reason():
    result = ft.extract_text(b"a" * 50, "text/plain", max_chars=10)
    assert result == ft.ExtractedText("a" * 10, "text cut at 10 characters")


def _pdf(*pages: str) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for text in pages:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_text_is_extracted():
    result = ft.extract_text(_pdf("Rechnung RE-2026-00311", "Seite zwei"), "application/pdf")
    assert result.reason == ""
    assert "Rechnung RE-2026-00311" in result.text
    assert "Seite zwei" in result.text


def test_pdf_page_limit():
    result = ft.extract_text(_pdf("eins", "zwei", "drei"), "application/pdf", max_pages=2)
    assert result.reason == "only the first 2 pages"
    assert "zwei" in result.text and "drei" not in result.text


def test_broken_pdf_gives_a_reason_not_an_exception():
    result = ft.extract_text(b"%PDF-1.4 this is not really a pdf", "application/pdf")
    assert result.text == ""
    assert result.reason.startswith("unreadable PDF")


def test_without_pypdf_pdf_text_is_empty_with_the_reason(monkeypatch):
    monkeypatch.setattr(ft, "_pdf", None)
    assert ft.extract_text(_pdf("x"), "application/pdf") == ft.ExtractedText(
        "", "PDF text extraction needs the pypdf package"
    )
