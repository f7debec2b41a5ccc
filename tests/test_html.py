"""HTML bulletins: visible text as blocks, headings as sections, list items as items, metadata from the page."""

from __future__ import annotations

from pathlib import Path

from retrieval.chunking import passages_from
from retrieval.ingest import ingest
from retrieval.intake.html import html_to_text
from retrieval.intake.sources import read_bulletin
from retrieval.search.searcher import Searcher

PAGE = """<!doctype html><html><head><title>EU Privacy Digest &ndash; March 2025</title>
<meta property="og:site_name" content="Example Law LLP">
<meta name="date" content="2025-03-14T09:00:00Z">
<link rel="canonical" href="https://example.org/digest/2025-03">
<script>var tracking = "do not index me";</script><style>p { color: red }</style></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<h1>EU Privacy Digest</h1>
<p>Our monthly round-up of   <b>EU</b> privacy developments.</p>
<h2>Enforcement</h2>
<ol><li><strong>Garante fines a bank</strong>: the Italian DPA fined a bank EUR 2&nbsp;million.<ul><li>Appeal pending.</li></ul></li>
<li>The CNIL fined a retailer EUR 300,000 for cookie walls.</li></ol>
<h2>Guidance</h2>
<div><p>The EDPB adopted guidelines on pseudonymisation.</p><p>Comments are open until 28 February.<br>Send them by email.</p></div>
<!-- a comment --><footer>© Example Law LLP</footer></body></html>"""


def test_html_to_text_blocks_and_metadata():
    text, meta = html_to_text(PAGE)
    assert meta == {"title": "EU Privacy Digest – March 2025", "date": "2025-03-14", "url": "https://example.org/digest/2025-03",
                    "publisher": "Example Law LLP"}
    blocks = text.strip().split("\n\n")
    assert blocks[0] == "# EU Privacy Digest"
    assert blocks[1] == "Our monthly round-up of EU privacy developments."
    assert "## Enforcement" in blocks and "## Guidance" in blocks
    # one list is one block, its nested entry indented under its parent
    assert ("- Garante fines a bank: the Italian DPA fined a bank EUR 2\u00a0million.\n  - Appeal pending.\n"
            "- The CNIL fined a retailer EUR 300,000 for cookie walls.") in blocks
    # a single <br> is a space inside the paragraph
    assert "Comments are open until 28 February. Send them by email." in blocks
    assert "do not index me" not in text and "color: red" not in text and "Home" not in text and "a comment" not in text


def test_html_bulletin_parses_into_sections_and_items(tmp_path: Path):
    f = tmp_path / "digest.html"
    f.write_text(PAGE)
    b = read_bulletin(f)
    # the page's own heading is its title, over the <title> of the browser tab; the date is the <meta> one
    assert (b.title, b.date, b.publisher) == ("EU Privacy Digest", "2025-03-14", "Example Law LLP")
    assert b.date_source == "metadata"
    assert [s.title for s in b.sections] == [None, "Enforcement", "Guidance"]
    # two entries; the nested "Appeal pending." is a paragraph of the first, not an item of its own
    assert len(b.sections[1].items) == 2
    assert [p.text for p in b.sections[1].items[0].paragraphs][-1] == "- Appeal pending."
    for p in passages_from(b):
        assert b.source_text[p.citation.char_start:p.citation.char_end] == p.text


def test_sidecar_overrides_page_metadata(tmp_path: Path):
    (tmp_path / "digest.html").write_text(PAGE)
    (tmp_path / "digest.meta.toml").write_text('title = "Digest (sidecar)"\ndate = "2025-03"\n')
    b = read_bulletin(tmp_path / "digest.html")
    assert (b.title, b.date, b.url) == ("Digest (sidecar)", "2025-03", "https://example.org/digest/2025-03")


def test_html_bulletin_is_ingested_and_quoted(tmp_path: Path, encoder):
    d = tmp_path / "c"
    d.mkdir()
    (d / "digest.html").write_text(PAGE)
    (d / "blank.html").write_text("<html><head><title>x</title><script>1</script></head><body> </body></html>")
    report = ingest([d], tmp_path / "data", encoder)
    assert report.added == ["digest.html"] and "no visible text" in report.errors[0]["error"]
    hit = Searcher(tmp_path / "data", encoder).search("CNIL fined a retailer cookie walls", top_k=1).hits[0]
    assert hit.text.startswith("- The CNIL fined a retailer EUR 300,000") and hit.citation.section == "Enforcement"


# A law firm's article page: site chrome around a <main>, as pages saved from a browser are.
ARTICLE = """<html><head><title>AI Act alert | Example LLP</title></head><body>
<header><div class="menu"><a href="/">Home</a><a href="/people">People</a><a href="/insights">Insights</a></div>
<p>Select your region: United States | Germany | France</p></header>
<main>
<ul class="crumbs"><li><a href="/">Home</a></li><li><a href="/insights">Insights</a></li></ul>
<h1>Ban on prohibited AI practices takes effect</h1>
<p><span>4 February 2025</span> &bull; <span>3 minute read</span></p>
<div class="byline"><span class="label">Written by:</span><a href="/p/1">Danny Tobey</a><a href="/p/2">Ashley Carr</a></div>
<p>Fines reach EUR35 million or 7
   percent of turnover.<br>Whichever is higher applies.<br><br>A new paragraph after two breaks.</p>
<p>Models trained with more than 10<sup>26</sup> operations must be reported, as must 1<sup>st</sup> tier
   providers.<sup><a href="#fn1">1</a></sup> Such protections are
   <span class="page-inline">( printed page 75193)</span>
   especially important in healthcare.</p>
<p hidden>A hidden teaser.</p><p style="display: none">Another hidden one.</p>
<h2>Risk levels</h2>
<table><thead><tr><th>Risk level</th><th>Description</th></tr></thead>
<tbody><tr><td>Unacceptable</td><td>Banned outright, such as social scoring.</td></tr>
<tr><td>High</td><td>Allowed with conformity assessment.</td></tr></tbody></table>
<dl><dt>Signing Date</dt><dd>October 30, 2023</dd><dt>Pages</dt><dd>75191-75226 (36 pages)</dd></dl>
<h3>Related insights</h3>
<div class="cards"><a class="card" href="/a"><p>SEC settlement on AI washing</p><p>28 January 2025</p></a>
<a class="card" href="/b"><p>Algorithmic bias framework</p><p>6 February 2025</p></a></div>
<ul><li><a href="/share/li">LinkedIn</a></li><li><a href="/share/x">X</a></li></ul>
</main>
<footer><p>© 2026 Example LLP. Attorney advertising.</p></footer></body></html>"""


def test_main_element_is_read_and_site_chrome_left_out():
    text, _ = html_to_text(ARTICLE)
    assert "Select your region" not in text and "Attorney advertising" not in text
    assert "# Ban on prohibited AI practices takes effect" in text.split("\n\n")


def test_link_only_lists_and_blocks_are_left_out():
    text, _ = html_to_text(ARTICLE)
    for menu_word in ("Home", "Insights", "LinkedIn", "SEC settlement", "Algorithmic bias"):
        assert menu_word not in text
    assert "## Risk levels" in text  # the heading above a dropped block stays


def test_adjacent_links_are_spaced_and_inline_text_folds():
    blocks = html_to_text(ARTICLE)[0].split("\n\n")
    assert "Written by: Danny Tobey Ashley Carr" in blocks
    assert "4 February 2025 • 3 minute read" in blocks
    assert "Fines reach EUR35 million or 7 percent of turnover. Whichever is higher applies." in blocks
    assert "A new paragraph after two breaks." in blocks


def test_superscripts_page_markers_and_footnote_references():
    text, _ = html_to_text(ARTICLE)
    assert "more than 10^26 operations" in text
    assert "as must 1st tier providers. Such protections are especially important in healthcare." in text
    assert "printed page" not in text and "hidden" not in text.lower()


def test_table_rows_are_paragraphs_with_their_header_as_context(tmp_path: Path):
    text, _ = html_to_text(ARTICLE)
    assert ("| Risk level | Description |\n| --- | --- |\n| Unacceptable | Banned outright, such as social scoring. |\n"
            "| High | Allowed with conformity assessment. |") in text
    f = tmp_path / "alert.html"
    f.write_text(ARTICLE)
    b = read_bulletin(f)
    by_text = {p.text: p for p in passages_from(b)}
    row = by_text["| High | Allowed with conformity assessment. |"]
    assert "Risk level | Description" in row.context and row.citation.section == "Risk levels"
    assert not any(t.startswith("| ---") or t.startswith("| Risk level") for t in by_text)
    for p in by_text.values():
        assert b.source_text[p.citation.char_start:p.citation.char_end] == p.text


def test_definition_list_is_one_block():
    assert "Signing Date\nOctober 30, 2023\nPages\n75191-75226 (36 pages)" in html_to_text(ARTICLE)[0].split("\n\n")


# No <main> or <article>: the menus are plain <div>s of links and a sidebar of text; trafilatura
# points at the content's element.
NO_MAIN = """<html><head><title>Press release</title></head><body>
<div id="top"><div class="links"><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About us</a></div>
<p class="strap">The national data protection authority: protecting your information since 1998.</p></div>
<div id="page"><div id="sidebar"><p>Subscribe to our newsletter to get every press release by e-mail the day it is out.</p></div>
<div id="body-text"><h1>Authority fines retailer for unlawful CCTV</h1>
<p>The authority has fined a retailer EUR 120,000 for filming its staff in break rooms without a lawful basis.</p>
<p>The retailer kept the recordings for two years and did not tell its staff that they were being filmed at all.</p>
<p>The company has 28 days to appeal the decision to the administrative court, which may suspend the fine.</p>
</div></div>
<div id="bottom"><p>Copyright 2025 the authority. All rights reserved. Accessibility statement and privacy notice.</p></div>
</body></html>"""


def test_without_main_element_the_library_finds_the_content():
    from bs4 import BeautifulSoup

    from retrieval.intake.html_main import main_content

    el, how = main_content(BeautifulSoup(NO_MAIN, "html.parser"), NO_MAIN)
    assert how == "trafilatura" and el.get("id") == "body-text"
    text, _ = html_to_text(NO_MAIN)
    assert text.startswith("# Authority fines retailer for unlawful CCTV\n\n")
    assert "28 days to appeal" in text and "Subscribe" not in text and "Copyright" not in text


def test_whole_body_when_asked(tmp_path: Path):
    text, _ = html_to_text(NO_MAIN, main_only=False)
    assert "Subscribe to our newsletter" in text and "Copyright 2025" in text
