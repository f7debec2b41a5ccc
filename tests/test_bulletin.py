"""Parsing of every shipped bulletin into sections, items and paragraphs, and of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import BulletinParseError
from retrieval.intake.parser import parse_bulletin
from retrieval.intake.sources import read_bulletin
from retrieval.text import decode_bulletin_bytes
from tests.conftest import CORPUS

SEED = "china-cybersecurity-data-protection-2019-08.txt"


def _shape(name: str) -> list[tuple[str | None, int, int]]:
    b = read_bulletin(CORPUS / name)
    return [(s.title, len(s.items), len(s.paragraphs)) for s in b.sections]


def test_seed_sections_and_restarting_item_numbers():
    b = read_bulletin(CORPUS / SEED)
    assert [s.title for s in b.sections] == [
        None, "Our insight", "Regulatory developments", "Enforcement developments", "Industry developments"]
    counts = {s.title: len(s.items) for s in b.sections}
    assert counts["Regulatory developments"] == 11
    assert counts["Enforcement developments"] == 3
    assert counts["Industry developments"] == 5
    enforcement = b.sections[3]
    assert [i.number for i in enforcement.items] == [1, 2, 3]
    assert enforcement.items[2].title == "Nantong City middle school penalised after hack for spreading illegal information"
    # item 7 has three paragraphs; headings are not paragraphs
    item7 = b.sections[2].items[6]
    assert item7.number == 7 and len(item7.paragraphs) == 3
    assert all(not p.text.startswith("7.") for p in item7.paragraphs)
    # metadata comes from the sidecar: the seed has no title or date line of its own
    assert b.title.startswith("China Cybersecurity and Data Protection") and b.date == "2019-09"
    assert b.url and b.url.startswith("https://")


def test_seed_insight_lines_are_paragraphs():
    b = read_bulletin(CORPUS / SEED)
    insight = b.sections[1]
    assert insight.items == [] and len(insight.paragraphs) == 2
    assert "data localisation regime" in insight.paragraphs[1].text


def test_securiti_items_continue_numbering_across_regions_and_keep_fields():
    # the closing "WHAT'S NEXT: …" list is a section of its own (11 paragraphs), not more of item 28
    assert _shape("securiti-privacy-roundup-2025-04.txt") == [
        ("North and South America Jurisdiction", 11, 0), ("Europe and Africa Jurisdiction", 9, 0), ("Asia Jurisdiction", 8, 0),
        ("WHAT'S NEXT: Key Privacy Developments to Watch For", 0, 11)]
    b = read_bulletin(CORPUS / "securiti-privacy-roundup-2025-04.txt")
    first = b.sections[0].items[0]
    assert first.number == 1 and first.title == "Oklahoma and Alabama Move Toward Comprehensive Privacy Laws"
    assert first.fields == ["Date: April 24, 2025", "State: Oklahoma; Alabama, United States"]
    assert b.sections[1].items[0].number == 12
    assert b.byline == "Yasir Nawaz"
    all_text = [p.text for _, _, p in b.paragraphs()]
    assert not any(t.startswith("Date:") for t in all_text)
    item28 = b.sections[2].items[-1]
    assert item28.number == 28 and len(item28.paragraphs) == 3
    assert item28.paragraphs[-1].text.startswith("If your organization handles consumer or product data")


def test_a_heading_in_capitals_ends_the_item_above_it():
    from retrieval.intake.parser import parse_bulletin

    text = ("Roundup\n\nAsia\n\n1. New Zealand Enacts Act\n\nDate: April 1, 2025\n\nThe Act passed.\n\n"
            "What’s Next?\n\nMore steps follow.\n\n"
            "WHAT'S NEXT: Key Privacy Developments to Watch For\n\n"
            "Colorado House to Decide Fate of Social Media Bill: the House has until May 7.\n")
    b = parse_bulletin(text, "x.txt", {"title": "Roundup"})
    item = b.sections[0].items[0]
    assert [p.text for p in item.paragraphs] == ["The Act passed.", "More steps follow."]
    assert item.paragraphs[1].subheading == "What’s Next?"  # a sub-heading in title case stays the item's
    assert b.sections[1].title == "WHAT'S NEXT: Key Privacy Developments to Watch For"
    assert b.sections[1].items == [] and b.sections[1].paragraphs[0].text.startswith("Colorado House")


def test_mofo_table_of_contents_dropped_and_subheadings_kept_as_context():
    assert _shape("mofo-european-digital-compliance-2025-05.txt") == [(None, 0, 1), ("EU", 5, 0), ("UK", 3, 0), ("Germany", 3, 0)]
    b = read_bulletin(CORPUS / "mofo-european-digital-compliance-2025-05.txt")
    dora = b.sections[1].items[4]
    assert dora.title == "DORA Updates"
    assert [p.subheading for p in dora.paragraphs] == [None, "Delegated and Implementing Regulation", "Additional Updates", "What’s Next"]
    texts = [p.text for _, _, p in b.paragraphs()]
    assert "Back to Top" not in texts and "What’s New?" not in texts


def test_markdown_digest_items_are_bullets_with_bold_titles():
    assert _shape("privacy-news-digest-2024-10.txt") == [
        ("CJEU decisions", 2, 0), ("EDPB and DPA guidance", 6, 0), ("Enforcement", 7, 0), ("Misc", 3, 0)]
    b = read_bulletin(CORPUS / "privacy-news-digest-2024-10.txt")
    linkedin = b.sections[2].items[0]
    assert linkedin.title == "Irish Data Protection Commission fines LinkedIn Ireland €310 million"
    # the bullet's own text is ¶1 and each nested sub-bullet a paragraph of its own
    assert len(linkedin.paragraphs) == 7 and "\n" not in linkedin.paragraphs[0].text
    assert all(p.text.startswith("- ") for p in linkedin.paragraphs[1:])
    assert _shape("privacy-news-digest-2024-11.txt") == [("Guides, Methodologies & Reports", 14, 0), ("Enforcement", 11, 0)]
    assert _shape("privacy-news-digest-2024-02.txt") == [(None, 13, 0)]


def test_techgdpr_headings_are_items_of_an_itemless_post_and_checklists_are_paragraphs():
    # a digest with headings but no numbered or bulleted item: one item per heading
    b = read_bulletin(CORPUS / "techgdpr-digest-2025-05-03-16.txt")
    assert [s.title for s in b.sections] == [None]
    items = b.sections[0].items
    titles = [i.title for i in items]
    # under "More official guidance", each "Label: text" news paragraph is an item of its own
    assert titles[:5] == ["IAB Europe case results in mixed decision", "Schools’ data", "GDPR and AI equation",
                          "NIS2 guidance", "Cookie consent"]
    assert "More official guidance" not in titles and {"AI literacy", "EU Merger"} <= set(titles)
    assert [i.number for i in items] == list(range(1, len(items) + 1))
    assert "Don’t use pre-ticked boxes or acceptance by inaction" not in titles
    literacy = items[titles.index("AI literacy")]
    assert literacy.paragraphs[0].text.startswith("AI literacy: The European Commission")
    assert [p.number for p in literacy.paragraphs] == list(range(1, len(literacy.paragraphs) + 1))
    assert any(p.text.startswith("Consider the role of the organisation") for p in literacy.paragraphs)  # lower case after ":"
    cookie = items[4]
    assert len(cookie.paragraphs) == 10 and [p.number for p in cookie.paragraphs] == list(range(1, 11))
    assert cookie.paragraphs[5].text == "Don’t use pre-ticked boxes or acceptance by inaction"
    assert b.byline == "Olya Vasylyk"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_every_paragraph_is_a_verbatim_slice(path: Path):
    b = read_bulletin(path)
    paragraphs = b.paragraphs()
    assert paragraphs
    for _, _, p in paragraphs:
        assert b.source_text[p.char_start:p.char_end] == p.text
        assert p.text == p.text.strip()


def test_no_metadata_title_from_first_line_and_date_unknown(tmp_path: Path):
    f = tmp_path / "plain.txt"
    f.write_text("Weekly privacy notes\n\nSection A\n\n1. First thing\n\nThe first thing happened on Monday.\n")
    b = read_bulletin(f)
    assert b.title == "Weekly privacy notes" and b.date is None and not b.has_metadata
    assert b.sections[0].title == "Section A" and b.sections[0].items[0].paragraphs[0].text.startswith("The first thing")


def test_front_matter_sets_metadata_and_offsets_stay_in_the_file(tmp_path: Path):
    text = "---\ntitle: Front Matter Bulletin\ndate: 2024-03\nurl: https://example.org/b\n---\nIntro paragraph here.\n"
    b = parse_bulletin(text, "fm.md")
    assert (b.title, b.date, b.url) == ("Front Matter Bulletin", "2024-03", "https://example.org/b")
    (_, _, p), = b.paragraphs()
    assert text[p.char_start:p.char_end] == "Intro paragraph here."


def _with_sidecar(tmp_path: Path, toml: str) -> Path:
    """A one-paragraph bulletin b.txt with the given b.meta.toml beside it."""
    f = tmp_path / "b.txt"
    f.write_text("Title\n\nSome paragraph.\n")
    (tmp_path / "b.meta.toml").write_text(toml)
    return f


def test_bad_metadata_date_is_reported_with_the_file(tmp_path: Path):
    f = _with_sidecar(tmp_path, 'title = "B"\ndate = "March 2024"\n')
    with pytest.raises(BulletinParseError, match="YYYY-MM"):
        read_bulletin(f)


def test_invalid_sidecar_toml_names_file_and_line(tmp_path: Path):
    f = _with_sidecar(tmp_path, 'title = "B"\ndate = \n')
    with pytest.raises(BulletinParseError) as exc:
        read_bulletin(f)
    assert exc.value.file.endswith("b.meta.toml") and exc.value.line == 2


@pytest.mark.parametrize("data,reason,line", [
    (b"", "empty", None),
    (b"   \n\n  ", "empty", None),
    (b"abc\x00\x01\x02", "binary", 1),
    (b"\xff\xfeT\x00i\x00", "UTF-16", None),
    (b"%PDF-1.7 stuff", "PDF", None),
    (b"text\n" * 3000 + b"\x00", "binary", 3001),
    (b"line one\nline two \xff\xfe bad\n", "not UTF-8", 2),
])
def test_unreadable_bytes_get_their_own_error(data: bytes, reason: str, line: int | None):
    with pytest.raises(BulletinParseError, match=reason) as exc:
        decode_bulletin_bytes(data, "x.txt")
    assert exc.value.line == line


def test_headings_only_file_is_unparseable():
    with pytest.raises(BulletinParseError, match="no paragraphs"):
        parse_bulletin("# Title\n\n## Section\n", "h.md")


def test_unclosed_front_matter_is_an_error():
    with pytest.raises(BulletinParseError, match="never closed"):
        parse_bulletin("---\ntitle: x\ndate: 2024\n", "f.md")


def test_malformed_front_matter_line_names_its_line():
    with pytest.raises(BulletinParseError) as exc:
        parse_bulletin("---\ntitle: x\nno colon here\n---\nBody.\n", "f.md")
    assert exc.value.line == 3 and exc.value.file == "f.md"


def test_crlf_and_bom_offsets_match_what_open_reads(tmp_path: Path):
    f = tmp_path / "crlf.txt"
    f.write_bytes("\ufeffWalrus Weekly\r\n\r\nFines\r\n\r\n1. Big fine\r\n\r\nThe walrus authority fined X.\r\nIt was large.\r\n".encode())
    b = read_bulletin(f)
    source = open(f, encoding="utf-8").read()
    assert b.source_text == source and b.title == "Walrus Weekly"
    for _, _, p in b.paragraphs():
        assert source[p.char_start:p.char_end] == p.text
    assert b.paragraphs()[0][2].text == "The walrus authority fined X.\nIt was large."


def test_form_feeds_and_line_separators_do_not_break_parsing(tmp_path: Path):
    f = tmp_path / "ff.txt"
    f.write_text("Crash bulletin\n\nA.\fB.\u2028C.\fD.\n\n1. Lonely last item\n")
    b = read_bulletin(f)
    texts = [(p.text, p.char_start) for _, _, p in b.paragraphs()]
    assert ("Lonely last item", b.source_text.index("Lonely")) in texts
    for _, _, p in b.paragraphs():
        assert b.source_text[p.char_start:p.char_end] == p.text and p.char_start >= 0


@pytest.mark.parametrize("date", ["2024-13", "2024-02-30", "24-01", "2024-00"])
def test_impossible_dates_are_rejected(tmp_path: Path, date: str):
    f = _with_sidecar(tmp_path, f'title = "B"\ndate = "{date}"\n')
    with pytest.raises(BulletinParseError, match="real date"):
        read_bulletin(f)


def test_non_text_metadata_value_is_rejected(tmp_path: Path):
    f = _with_sidecar(tmp_path, 'title = ["a", "b"]\n')
    with pytest.raises(BulletinParseError, match="metadata title must be text"):
        read_bulletin(f)


def test_yaml_front_matter_with_a_list_is_accepted():
    b = parse_bulletin("---\ntitle: T\ntags:\n  - a\n- b\n---\nBody text.\n", "f.md")
    assert b.title == "T"


def test_markdown_lists_without_blank_lines_split_into_items():
    text = ("# Digest\n## Enforcement\n- **Gecko Rule** (https://x.org): fined EUR 5k.\n  - nested detail\n"
            "- **Iguana Act**: adopted.\n## Guidance\n- **Skink guide** published.\n")
    b = parse_bulletin(text, "d.md")
    assert [s.title for s in b.sections] == ["Enforcement", "Guidance"]
    items = b.sections[0].items
    assert [i.title for i in items] == ["Gecko Rule", "Iguana Act"]
    assert [p.text for p in items[0].paragraphs] == ["- **Gecko Rule** (https://x.org): fined EUR 5k.", "- nested detail"]
    for _, _, p in b.paragraphs():
        assert text[p.char_start:p.char_end] == p.text


def test_a_bullet_title_after_emoji_is_the_items_title():
    from retrieval.intake.parser import parse_bulletin

    text = ("# Week 10-16 July 2023\n\n- ✅💯🔒 **Positive adequacy decision for the DPF** (https://ec.europa.eu/x): "
            "The EC announced the adequacy decision.\n\n- **Second** (https://a.b): text.\n")
    items = [i for s in parse_bulletin(text, "w.md").sections for i in s.items]
    assert [i.title for i in items] == ["Positive adequacy decision for the DPF", "Second"]
