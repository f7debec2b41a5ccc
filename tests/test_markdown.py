"""Markdown bulletins read by markdown-it-py: link references, footnotes, template tags, TOML front matter, tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.chunking import passages_from
from retrieval.errors import BulletinParseError
from retrieval.intake.markdown import markdown_blocks, plain_text
from retrieval.intake.metadata import front_matter
from retrieval.intake.sources import read_bulletin

# A Hugo post as blog engines keep them: TOML front matter, shortcodes, raw HTML, reference links,
# a footnote, a table, a quote and sections with numbered sub-headings.
POST = """+++
title = 'Key takeaways: the **Data** Bill'
date = 2021-12-16T12:58:43Z
author = 'Rohin Garg'
tags = ['privacy', 'bill']
draft = false
+++

{{< gallery >}}
{{< galleryImg src="https://example.org/5.png" >}}{{< /gallery >}}

<div style="text-align:center;">
    <a href="https://example.org/donate/" class="button">Donate to help sustain our work</a>
</div>

{{tableofcontents}}

## **Background**

The committee tabled its report on 16 December 2021, after [two years][6] of work.[^1]
It also released a new draft bill.

## Takeaways

### 1. Objectives become worse

The preamble now puts the digital economy first. {{< figure src="x.jpg" >}}

- Consent is weakened for employers.
- Exemptions for the state are wider.

### 2. _Scope_ and [name change](https://example.org/name)

The bill now covers non-personal data too.

> Nothing in this Act shall prevent the Central Government from framing any policy.

| Clause | Change |
|--------|--------|
| 25(3) | Breach notice within 72 hours |
| 35 | Wider state exemption |

## Further reading

- [Our explainer](https://example.org/a)
- [The report](https://example.org/b)

[6]: https://example.org/two-years "Two years"
[report]: <https://example.org/report>

[^1]: The report is 542 pages long and runs to two volumes.
"""


def _bulletin(tmp_path: Path, text: str = POST, name: str = "post.md"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f, read_bulletin(f)


def test_every_passage_is_a_verbatim_slice_of_the_file(tmp_path: Path):
    f, b = _bulletin(tmp_path)
    source = open(f, encoding="utf-8").read()
    passages = passages_from(b)
    assert passages
    for p in passages:
        assert source[p.citation.char_start:p.citation.char_end] == p.text


def test_toml_front_matter_is_metadata_not_text(tmp_path: Path):
    _, b = _bulletin(tmp_path)
    assert (b.title, b.date, b.byline) == ("Key takeaways: the **Data** Bill", "2021-12-16", "Rohin Garg")
    texts = [p.text for p in passages_from(b)]
    assert not any("+++" in t or "draft = false" in t or "tags =" in t for t in texts)


def test_link_references_template_tags_and_raw_html_are_no_passages(tmp_path: Path):
    _, b = _bulletin(tmp_path)
    texts = [p.text for p in passages_from(b)]
    assert not any(t.startswith(("[6]:", "[report]:")) or "https://example.org/two-years" in t for t in texts)
    assert not any("{{" in t or "<div" in t or "Donate" in t for t in texts)
    # a tag at the end of a paragraph is cut off it; the sentence stays whole
    assert "The preamble now puts the digital economy first." in texts


def test_link_only_list_is_not_answerable(tmp_path: Path):
    _, b = _bulletin(tmp_path)
    assert not any("Our explainer" in p.text for p in passages_from(b))


def test_footnote_is_a_passage_of_its_own(tmp_path: Path):
    _, b = _bulletin(tmp_path)
    note = next(p for p in passages_from(b) if "542 pages" in p.text)
    assert note.text == "The report is 542 pages long and runs to two volumes."
    assert "footnote 1" in note.context


def test_headings_are_sections_and_sub_headings_items_with_plain_titles(tmp_path: Path):
    _, b = _bulletin(tmp_path)
    titles = [s.title for s in b.sections]
    assert "Background" in titles and "Takeaways" in titles and "**Background**" not in titles
    takeaways = b.sections[titles.index("Takeaways")]
    assert [(it.number, it.title) for it in takeaways.items] == [(1, "Objectives become worse"),
                                                                 (2, "Scope and name change")]
    first = takeaways.items[0]
    assert [p.text for p in first.paragraphs] == ["The preamble now puts the digital economy first.",
                                                  "- Consent is weakened for employers.",
                                                  "- Exemptions for the state are wider."]


def test_table_rows_and_quote(tmp_path: Path):
    _, b = _bulletin(tmp_path)
    by_text = {p.text: p for p in passages_from(b)}
    row = by_text["| 25(3) | Breach notice within 72 hours |"]
    assert "Clause | Change" in row.context and row.citation.item_title == "Scope and name change"
    assert not any(t.startswith("|---") or t.startswith("| Clause") for t in by_text)
    assert "Nothing in this Act shall prevent the Central Government from framing any policy." in by_text


def test_yaml_front_matter_and_jekyll_tags(tmp_path: Path):
    text = ("---\nlayout: email\ntitle: ASD gets an update\n---\n\n{% include header.html %}\n\n"
            "Good morning.\n\n### ASD becomes a statutory authority\n\nAs of last Tuesday, ASD is independent.\n")
    _, b = _bulletin(tmp_path, text, "2018-07-10-email.md")
    assert b.title == "ASD gets an update"
    assert [p.text for p in passages_from(b)] == ["Good morning.", "As of last Tuesday, ASD is independent."]


def test_unclosed_or_bad_toml_front_matter_is_an_error(tmp_path: Path):
    with pytest.raises(BulletinParseError, match="never closed"):
        _bulletin(tmp_path, "+++\ntitle = 'x'\n\nBody text here.\n")
    with pytest.raises(BulletinParseError, match="not valid TOML"):
        _bulletin(tmp_path, "+++\ntitle = \n+++\n\nBody text here.\n")


def test_front_matter_offsets_and_blocks_are_exact():
    meta, offset = front_matter(POST)
    assert meta["title"].startswith("Key takeaways") and POST[offset:].startswith("\n{{< gallery")
    for block in markdown_blocks(POST, offset):
        assert POST[block.start:block.end] == block.text


def test_plain_text_drops_inline_markup():
    assert plain_text("**Bold** _it_ [link](https://x.org) `code` <b>x</b>") == "Bold it link code x"
