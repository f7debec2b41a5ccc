"""Deep bullet lists: each sub-bullet is a paragraph of its own, with exact offsets."""

from __future__ import annotations

from pathlib import Path

from retrieval.bulletin import parse_bulletin, read_bulletin
from retrieval.chunking import passages_from
from retrieval.posts import split_list_entries
from tests.conftest import CORPUS

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
