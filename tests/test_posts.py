"""Blog posts (no items: grouped per sub-heading, previews dropped, front matter read) and deep bullet lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.chunking import passages_from
from retrieval.errors import BulletinParseError
from retrieval.ingest import ingest
from retrieval.intake.parser import parse_bulletin
from retrieval.intake.posts import normalise_post_date, split_list_entries
from retrieval.intake.sources import read_bulletin
from retrieval.search.searcher import Searcher
from tests.conftest import CORPUS

POST = """---
title: "EDPB guidelines on pseudonymisation: what controllers need to know"
published_date: 2025-03-04
canonical_url: https://example-law.com/insights/edpb-pseudonymisation
author: Jane Doe
publisher: Example Law LLP
tags:
  - gdpr
  - guidance
---
# EDPB guidelines on pseudonymisation: what controllers need to know

The European Data Protection Board adopted guidelines on pseudonymisation on 16 January 2025, clarifying
that pseudonymised data...

The European Data Protection Board adopted guidelines on pseudonymisation on 16 January 2025, clarifying that
pseudonymised data remain personal data whenever the controller or another party can attribute them to a person.

## What the guidelines say

Pseudonymisation can reduce risks and make it easier to rely on legitimate interests, but it does not take the
processing outside the GDPR.

The guidelines describe technical measures, such as keeping the additional information separately and protecting
it against unauthorised re-identification.

## What's next

The consultation on the guidelines is open until 28 February 2025. Controllers should review their
pseudonymisation measures against the guidelines now.
"""


def _post(tmp_path: Path, text: str = POST, name: str = "edpb-post.md") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def test_post_front_matter_is_read(tmp_path: Path):
    b = read_bulletin(_post(tmp_path))
    assert b.title == "EDPB guidelines on pseudonymisation: what controllers need to know"
    assert (b.date, b.url, b.publisher, b.byline) == (
        "2025-03-04", "https://example-law.com/insights/edpb-pseudonymisation", "Example Law LLP", "Jane Doe")
    assert b.has_metadata


def test_post_without_items_gets_one_item_per_subheading(tmp_path: Path):
    b = read_bulletin(_post(tmp_path))
    (post,) = b.sections
    assert post.title is None and post.paragraphs == []
    assert [(i.number, i.title, len(i.paragraphs)) for i in post.items] == [
        (1, None, 1), (2, "What the guidelines say", 2), (3, "What's next", 1)]
    source = open(tmp_path / "edpb-post.md", encoding="utf-8").read()
    nxt = post.items[2]
    assert source[nxt.char_start:].startswith("## What's next")
    passages = passages_from(b)
    assert {(p.citation.section, p.citation.item_number) for p in passages} == {(None, 1), (None, 2), (None, 3)}
    deadline = next(p for p in passages if "28 February 2025" in p.text)
    assert (deadline.citation.item_number, deadline.citation.item_title, deadline.citation.paragraph) == (3, "What's next", 1)
    for p in passages:
        assert source[p.citation.char_start:p.citation.char_end] == p.text


def test_truncated_preview_that_repeats_a_later_paragraph_is_dropped(tmp_path: Path):
    b = read_bulletin(_post(tmp_path))
    texts = [p.text for _, _, p in b.paragraphs()]
    assert not any(t.endswith("...") for t in texts)
    intro = b.sections[0].items[0]
    assert intro.paragraphs[0].number == 1 and intro.paragraphs[0].text.endswith("attribute them to a person.")


@pytest.mark.parametrize("preview,dropped", [
    ("The regulator fined the retailer EUR 2 million for\nunlawful cookie…", True),  # re-wrapped, "…"
    ("The regulator fined the retailer EUR 2 million for unlawful cookie...", True),
    ("The regulator fined the retailer EUR 2 million for unlawful tracking...", False),  # not a prefix
    ("The regulator fined...", False),  # too short to be taken for a truncation
    ("The regulator fined the retailer EUR 2 million for unlawful cookie banners.", False),  # no ellipsis
])
def test_preview_must_be_a_long_prefix_ending_in_an_ellipsis(preview: str, dropped: bool):
    text = (f"Cookie fine\n\n{preview}\n\nBackground\n\n"
            "The regulator fined the retailer EUR 2 million for unlawful cookie banners. It has appealed.\n")
    b = parse_bulletin(text, "p.txt")
    texts = [p.text for _, _, p in b.paragraphs()]
    assert (preview not in texts) == dropped
    assert texts[-1].endswith("It has appealed.")


def test_post_with_no_subheadings_is_one_item_and_iso_datetime_is_read():
    text = ("---\ntitle: CNIL fines a retailer\ndate: 2025-03-04T09:30:00+01:00\n"
            "url: /blog/cnil-fine\ncanonical_url: https://example.org/blog/cnil-fine\n---\n"
            "The CNIL fined a retailer EUR 300,000 for cookie walls.\n\nThe retailer may appeal within two months.\n")
    b = parse_bulletin(text, "cnil.md")
    assert (b.date, b.url) == ("2025-03-04", "https://example.org/blog/cnil-fine")
    (post,) = b.sections
    assert [(i.number, i.title, [p.number for p in i.paragraphs]) for i in post.items] == [(1, None, [1, 2])]


def test_unreadable_front_matter_date_is_reported_not_left_unknown():
    with pytest.raises(BulletinParseError, match="date"):
        parse_bulletin("---\ntitle: T\npublished_date: last Tuesday\n---\nBody text.\n", "t.md")


@pytest.mark.parametrize("value,iso", [
    ("2025-03-04", "2025-03-04"), ("2025-03-04 10:00:00 +0000", "2025-03-04"), ("'2025-03'", "2025-03"),
    ("March 4, 2025", "2025-03-04"), ("4 March 2025", "2025-03-04"), ("Mar 4th, 2025", "2025-03-04"),
    ("March 2025", "2025-03"), ("2025/03/04", "2025-03-04"), ("someday", None), ("2025-02-30", None),
])
def test_front_matter_dates_are_normalised(value: str, iso: str | None):
    assert normalise_post_date(value) == iso


def test_digest_with_items_keeps_its_stray_paragraphs_outside_items():
    text = "Weekly notes\n\nA word of introduction.\n\nEnforcement\n\n1. Big fine\n\nThe authority fined X.\n"
    b = parse_bulletin(text, "w.txt")
    assert [s.title for s in b.sections] == [None, "Enforcement"]
    assert b.sections[0].items == [] and b.sections[0].paragraphs[0].text == "A word of introduction."


def test_html_blog_post_is_grouped_by_subheading(tmp_path: Path):
    page = """<html><head><title>DMA fines: Apple and Meta | Example Law</title>
<meta property="article:published_time" content="2025-04-23T08:00:00Z"></head><body><article>
<h1>DMA fines: Apple and Meta</h1>
<p>The Commission fined Apple EUR 500 million and Meta EUR 200 million under the Digital Markets Act…</p>
<p>The Commission fined Apple EUR 500 million and Meta EUR 200 million under the Digital Markets Act, the first fines under it.</p>
<h2>Apple</h2><p>Apple's anti-steering rules breached the DMA.</p>
<h2>Meta</h2><p>Meta's pay or consent model breached the DMA.</p><p>Meta has 60 days to comply.</p>
</article></body></html>"""
    b = read_bulletin(_post(tmp_path, page, "dma.html"))
    assert b.date == "2025-04-23"
    assert [(i.number, i.title, len(i.paragraphs)) for i in b.sections[0].items] == [(1, None, 1), (2, "Apple", 1), (3, "Meta", 2)]
    for p in passages_from(b):
        assert b.source_text[p.citation.char_start:p.citation.char_end] == p.text


def test_one_post_no_longer_fills_the_top_hits(tmp_path: Path, encoder):
    corpus = tmp_path / "c"
    corpus.mkdir()
    _post(corpus)
    (corpus / "other.txt").write_text("Other digest\n\nGuidance\n\n1. Skinks\n\nThe skink authority published guidance.\n")
    report = ingest([corpus], tmp_path / "data", encoder)
    assert not report.errors
    hits = Searcher(tmp_path / "data", encoder).search("pseudonymisation guidelines consultation", top_k=10).hits
    from_post = [h for h in hits if h.citation.source_file == "edpb-post.md"]
    # one hit per item: at most the post's three items, each cited with an item number
    assert 0 < len(from_post) <= 3
    assert len({h.citation.item_number for h in from_post}) == len(from_post)
    assert all(h.citation.item_number is not None for h in from_post)


DEEP = (
    "# Privacy digest\n\n## Guidance\n\n"
    "- **EDPB plans for 2025** (https://example.org/plan): the Board's work programme.\n"
    "  - Pillar 1: promoting compliance, incl. developing:\n"
    "\t- Guidelines on anonymisation\n"
    "\t- Guidelines on pseudonymisation, to be adopted after\n"
    "\t  a public consultation.\n"
    "  - Pillar 2: a common enforcement culture:\n"
    "    - The 2024 CEF on the **right of access**\n"
    "      - reports due in **March 2025**\n"
    "- **EDPB opinion on processors** (https://example.org/op): short.\n"
)


def test_each_sub_bullet_is_a_paragraph_with_exact_offsets(tmp_path: Path):
    f = tmp_path / "deep.md"
    f.write_bytes(DEEP.replace("\n", "\r\n").encode("utf-8"))  # offsets index what open() reads
    b = read_bulletin(f)
    source = open(f, encoding="utf-8").read()
    plan, opinion = b.sections[0].items
    assert plan.title == "EDPB plans for 2025" and [p.number for p in plan.paragraphs] == list(range(1, 8))
    assert [p.text for p in plan.paragraphs] == [
        "- **EDPB plans for 2025** (https://example.org/plan): the Board's work programme.",
        "- Pillar 1: promoting compliance, incl. developing:",
        "- Guidelines on anonymisation",
        "- Guidelines on pseudonymisation, to be adopted after\n\t  a public consultation.",
        "- Pillar 2: a common enforcement culture:",
        "- The 2024 CEF on the **right of access**",
        "- reports due in **March 2025**",
    ]
    # a sub-bullet's parent (when short) heads it in the embedding context; top-level children get none
    assert [p.subheading for p in plan.paragraphs] == [
        None, None, "Pillar 1: promoting compliance, incl. developing:", "Pillar 1: promoting compliance, incl. developing:",
        None, "Pillar 2: a common enforcement culture:", "The 2024 CEF on the right of access"]
    assert [p.line for p in plan.paragraphs] == [5, 6, 7, 8, 10, 11, 12]
    assert [p.text for p in opinion.paragraphs] == ["- **EDPB opinion on processors** (https://example.org/op): short."]
    for p in passages_from(b):
        assert source[p.citation.char_start:p.citation.char_end] == p.text
    march = next(p for p in passages_from(b) if "March 2025" in p.text)
    assert (march.citation.item_number, march.citation.paragraph) == (1, 7)


def test_list_after_a_lead_in_line_splits_and_the_lead_in_heads_it():
    text = "Notes\n\nUber fine\n\nThe DPA found three issues:\n- the interface was hard to find;\n- exports were in CSV.\n"
    b = parse_bulletin(text, "n.txt")
    paras = [p for _, _, p in b.paragraphs()]
    assert [p.text for p in paras] == ["The DPA found three issues:", "- the interface was hard to find;", "- exports were in CSV."]
    assert [p.subheading for p in paras] == [None, "The DPA found three issues:", "The DPA found three issues:"]


def test_split_list_entries_keeps_a_plain_paragraph_whole():
    text = "A paragraph\nwrapped over lines - with a dash inside\n2019. A year at a line start."
    assert split_list_entries(text, 10, 3, True) == [(text, 10, 10 + len(text), 3, None)]


def test_shipped_deep_list_item_is_cut_per_bullet():
    b = read_bulletin(CORPUS / "privacy-news-digest-2024-10.txt")
    tiktok = next(i for s in b.sections for i in s.items if i.title and "TikTok for COPPA" in i.title)
    assert len(tiktok.paragraphs) == 11 and max(len(p.text) for p in tiktok.paragraphs) < 1000
    autoplay = next(p for p in tiktok.paragraphs if "_AUTOPLAY_" in p.text)
    assert autoplay.number == 5 and autoplay.text.startswith("- _AUTOPLAY_.") and "\n" not in autoplay.text
    for _, _, p in b.paragraphs():
        assert b.source_text[p.char_start:p.char_end] == p.text


def test_metadata_without_a_date_is_said(tmp_path: Path, caplog):
    f = _post(tmp_path, "---\ntitle: A post\nauthor: J. Doe\n---\nBody text of the post.\n", "nodate.md")
    with caplog.at_level("WARNING", logger="retrieval.intake"):
        b = read_bulletin(f)
    assert b.date is None and b.has_metadata
    assert "nodate.md" in caplog.text and "no date" in caplog.text
