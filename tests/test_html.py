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
    assert "- Garante fines a bank: the Italian DPA fined a bank EUR 2\u00a0million." in blocks
    assert "- Appeal pending." in blocks
    assert "Comments are open until 28 February.\nSend them by email." in blocks
    assert "do not index me" not in text and "color: red" not in text and "Home" not in text and "a comment" not in text


def test_html_bulletin_parses_into_sections_and_items(tmp_path: Path):
    f = tmp_path / "digest.html"
    f.write_text(PAGE)
    b = read_bulletin(f)
    assert (b.title, b.date, b.publisher) == ("EU Privacy Digest – March 2025", "2025-03-14", "Example Law LLP")
    assert [s.title for s in b.sections] == [None, "Enforcement", "Guidance"]
    assert len(b.sections[1].items) == 3
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
