"""The bulletin parser: text → bulletin → sections → numbered items → paragraphs.

``parse_bulletin(text, source, metadata)`` turns the text of one bulletin (plain text or markdown)
into a :class:`~retrieval.intake.structure.Bulletin`, raising :class:`~retrieval.errors.BulletinParseError`
(with file and line) on bad input. (:func:`retrieval.intake.sources.read_bulletin` reads a file and its
metadata and calls it.)

The parser works on *blocks* (:mod:`retrieval.intake.blocks`): runs of non-blank lines separated by blank lines (a
markdown heading or top-level bullet also starts a block, since markdown lists rarely leave blank lines), or,
for a markdown file, the blocks its parser finds (:mod:`retrieval.intake.markdown`). Every paragraph it
returns is a verbatim slice of the source, ``source_text[char_start:char_end] == text``. How blocks
are classified (each rule was written against a real bulletin shape, see ``docs/corpus-sources.md``):

- ``# Title`` on the first block, or a first line equal to the metadata title → the bulletin title.
- ``## Heading`` (any markdown heading elsewhere) → a section; a heading one level or more below the
  section's (``###`` under ``##``) → an item of that section (``### 2. Scope`` is item 2), whose
  list entries are its paragraphs; deeper still → a sub-heading inside the item.
- A pipe table → one paragraph per body row, the header row as its context (sub-heading).
- A markdown footnote (``[^3]: …``) → a paragraph of its own, "footnote 3" as its context.
- ``12. Title`` or ``1 .Title`` (one short line) → a numbered item; numbers may restart per section.
- ``4.10. The officer shall…`` or ``2.10 Some respondents…`` (a paragraph numbered within its chapter, as
  circulars and policy statements number them) → an item numbered by the last part (10) with that body.
- ``- **Title** (url): text`` (a top-level markdown bullet) → an unnumbered item, numbered by its
  position in the section; its first paragraph is the bullet's own text and each nested sub-bullet
  (at any depth) is a paragraph of its own, so ¶N points at the bullet that says it. The same holds
  for list entries inside any paragraph (``Issues:`` then ``  - …`` lines).
- A short line with no closing punctuation (a *heading-like* line) → a section heading when it is
  followed by an item, stands outside an item or starts with words in capitals ("WHAT'S NEXT: …");
  a sub-heading inside an item. Two or more
  heading-like lines in a row are a list, i.e. paragraphs (e.g. a checklist of short steps).
- ``Label: value`` short lines inside an item (``Date: April 24, 2025``) → item fields (context).
- ``By Name`` after the title → the byline; ``Back to Top`` navigation lines → skipped.
- An item that has no paragraphs and whose title recurs later (a table of contents) is dropped;
  otherwise its title is kept as its paragraph, so no content is lost.
- A preview paragraph (ending in "..." or "…") that repeats the start of a later one is dropped.
- A bulletin with no item at all (a blog post) gets one item per sub-heading, or one for the whole
  post (:func:`retrieval.intake.posts.group_itemless_post`), so its paragraphs are grouped and cited by item.
- Front matter may use blog keys (``published_date``, ``canonical_url``, ``author``…; see
  :func:`retrieval.intake.posts.post_metadata`).
"""

from __future__ import annotations

import re

from retrieval.errors import BulletinParseError
from retrieval.text import normalise_space

from .blocks import Block, classified, is_list_entry, table_rows
from .dates import MAX_LINES, printed_date
from .metadata import front_matter, validate_metadata
from .posts import drop_previews, group_itemless_post, post_metadata, split_list_entries
from .structure import Bulletin, Item, Paragraph, Section

_LEADING_NUMBER = re.compile(r"^(\d{1,3})\s*[.)]\s+(\S.*)$")
#: A heading in capitals ("WHAT'S NEXT: Key Privacy Developments to Watch For") is the bulletin's own
#: section, never a sub-heading of the item above it.
_SHOUTED = re.compile(r"^[A-Z][A-Z’'&\-]*(?:\s+[A-Z][A-Z’'&\-]*)+(?::|$)")


def parse_bulletin(text: str, source_file: str, metadata: dict | None = None, *, markdown: bool = False,
                   fallback: dict | None = None) -> Bulletin:
    """Parse one bulletin's text into sections, items and paragraphs.

    Args:
        text: the whole file, decoded; front matter (YAML-like ``---`` or TOML ``+++``) is read and skipped.
        source_file: the bulletin's file name, used in citations and errors.
        metadata: title/publisher/date/url from a sidecar; front matter values override nothing
            given here.
        markdown: read the blocks with the markdown parser (:mod:`retrieval.intake.markdown`: link
            reference definitions, template tags and raw HTML are no paragraphs) rather than at
            blank lines.
        fallback: what the file's own metadata says (an HTML ``<title>``, a PDF's Title and
            CreationDate, an e-mail's headers), used where neither ``metadata`` nor the document
            gives one; its ``date_source`` (``document`` or ``metadata``, see :mod:`retrieval.intake.dates`)
            says whether its date is stated by the document.

    The date and ``date_source``: ``metadata``'s date (``sidecar``), else the front matter's or the
    date printed in the first lines (:func:`retrieval.intake.dates.printed_date`; ``document``), else the
    fallback's. The title: ``metadata``'s or the front matter's, else a first ``# heading``, else the
    fallback's, else the first line.

    Returns:
        A :class:`Bulletin` whose paragraphs are verbatim slices of ``text``.

    Raises:
        BulletinParseError: on bad front matter or when no paragraph is found.
    """
    bom = 1 if text.startswith("\ufeff") else 0
    try:
        front, body_offset = front_matter(text[bom:])
    except BulletinParseError as exc:
        raise BulletinParseError(source_file, exc.reason, exc.line) from None
    body_offset += bom
    front_meta, author = post_metadata(front)
    given = validate_metadata({**front_meta, **(metadata or {})}, source_file)
    backup = {k: v for k, v in (fallback or {}).items() if k != "date_source"}
    meta = {**validate_metadata(backup, source_file), **given}
    blocks = classified(text, body_offset, markdown)
    if not blocks:
        raise BulletinParseError(source_file, "no text found (the file is empty or only whitespace)")

    # The title block: a level-1 heading first, or a first line equal to the metadata title.
    first = blocks[0]
    title = given.get("title")
    first_is_title = False
    if first.kind == "md_heading" and first.number == 1:
        first_is_title = True
        title = title or first.title
    elif "\n" not in first.text:
        if title or meta.get("title"):
            title = title or meta["title"]
            seen, want = normalise_space(first.text).lower(), normalise_space(title).lower()
            first_is_title = seen == want or (min(len(seen), len(want)) > 20 and (seen in want or want in seen))
        elif first.kind in ("heading", "numbered") or (len(first.text) <= 200 and not first.text.endswith(".")):
            first_is_title, title = True, first.text
    title = title or meta.get("title")
    if not title:
        line = normalise_space(first.text.splitlines()[0])
        title = line if len(line) <= 120 else line[:117].rsplit(" ", 1)[0] + "…"
    if first_is_title:
        blocks = blocks[1:]

    date, date_source = _date(metadata or {}, front_meta, fallback or {}, blocks)
    bulletin = Bulletin(
        source_file=source_file, source_text=text, title=title, publisher=meta.get("publisher"),
        date=date, url=meta.get("url"), has_metadata=bool(meta), date_source=date_source,
    )
    blocks = [b for b in blocks if b.kind != "boilerplate"]
    if blocks and blocks[0].kind == "byline":
        bulletin.byline = blocks[0].text[3:].strip()
        blocks = blocks[1:]
    bulletin.byline = bulletin.byline or author

    sections: list[Section] = []
    section: Section | None = None
    item: Item | None = None
    subheading: str | None = None

    def current_section(line: int) -> Section:
        nonlocal section
        if section is None:
            section = Section(title=None, line=line)
            sections.append(section)
        return section

    item_level = 0

    def add_paragraph(b: Block) -> None:
        owner = item if item is not None else current_section(b.line)
        if b.kind not in ("bullet", "paragraph"):
            owner.paragraphs.append(Paragraph(len(owner.paragraphs) + 1, b.text, b.start, b.end, b.line, subheading))
            return
        # each (nested) list entry is a paragraph of its own, headed by its parent entry when short
        for text_, start, end, line, parent in split_list_entries(b.text, b.start, b.line, b.kind == "paragraph"):
            owner.paragraphs.append(Paragraph(len(owner.paragraphs) + 1, text_, start, end, line, parent or subheading))

    item_kinds = ("numbered", "bullet")
    section_level: int | None = None  # the level of the markdown heading that opened the section
    heading_item = False  # the item was opened by a heading one level below the section's
    for i, b in enumerate(blocks):
        if b.kind == "heading":
            prev = blocks[i - 1] if i > 0 else None
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if nxt is not None and nxt.kind in item_kinds and not heading_item:
                section, item, subheading, section_level = Section(title=b.text, line=b.line), None, None, None
                sections.append(section)
            elif is_list_entry(prev) or is_list_entry(nxt):
                add_paragraph(b)  # one entry of a list of short lines, not a heading
            elif item is not None and nxt is not None and nxt.kind != "md_heading" and not _SHOUTED.match(b.text):
                subheading = b.text
            else:
                section, item, subheading, section_level = Section(title=b.text, line=b.line), None, None, None
                sections.append(section)
        elif b.kind == "md_heading":
            title = (b.title or "").rstrip(":").strip()
            level = b.number or 1
            if section is not None and section_level is not None and level > section_level:
                if item is None or not heading_item or level <= item_level:
                    # a heading below the section's: an item of that section
                    m = _LEADING_NUMBER.match(title)
                    number = int(m.group(1)) if m else len(section.items) + 1
                    item = Item(number=number, title=m.group(2) if m else title, line=b.line, char_start=b.start)
                    section.items.append(item)
                    heading_item, item_level, subheading = True, level, None
                else:
                    subheading = title  # deeper still: a sub-heading inside the item
                continue
            section, item, subheading = Section(title=title, line=b.line), None, None
            section_level, heading_item = level, False
            sections.append(section)
        elif b.kind in item_kinds and heading_item and item is not None:
            add_paragraph(b)  # a list under an item's heading: the item's paragraphs
        elif b.kind in item_kinds:
            sec = current_section(b.line)
            number = b.number if b.kind == "numbered" and b.number is not None else len(sec.items) + 1
            item, subheading, heading_item = Item(number=number, title=b.title, line=b.line, char_start=b.start), None, False
            sec.items.append(item)
            if b.kind == "bullet" or b.body:
                add_paragraph(b)
        elif b.kind == "field" and item is not None:
            item.fields.append(b.text)
        elif b.kind == "table":
            header, rows = table_rows(b)
            owner = item if item is not None else current_section(b.line)
            for row_text, start, end in rows:
                row_line = b.line + text.count("\n", b.start, start)
                owner.paragraphs.append(Paragraph(len(owner.paragraphs) + 1, row_text, start, end, row_line,
                                                  header or subheading))
        elif b.kind == "footnote":
            owner = item if item is not None else current_section(b.line)
            owner.paragraphs.append(Paragraph(len(owner.paragraphs) + 1, b.text, b.start, b.end, b.line,
                                              f"footnote {b.title}"))
        else:  # paragraph, quote, a field outside an item, a byline out of place
            add_paragraph(b)

    _drop_table_of_contents(sections, text)
    drop_previews(sections)
    sections = group_itemless_post(sections, text)
    bulletin.sections = [s for s in sections if s.items or s.paragraphs]
    if not bulletin.sections:
        raise BulletinParseError(source_file, "no paragraphs found: the file holds only a title or headings")
    return bulletin


def _date(given: dict, front: dict, fallback: dict, blocks: list[Block]) -> tuple[str | None, str]:
    """The bulletin's date and its source (see :mod:`retrieval.intake.dates`); dates already validated."""
    if given.get("date"):
        return str(given["date"]).strip(), "sidecar"
    if front.get("date"):
        return front["date"], "document"
    lines = [ln for b in blocks[:MAX_LINES] for ln in b.text.split("\n")]
    printed = printed_date(lines)
    if printed:
        return printed, "document"
    if fallback.get("date"):
        return str(fallback["date"]).strip(), str(fallback.get("date_source") or "metadata")
    return None, "none"


def _drop_table_of_contents(sections: list[Section], text: str) -> None:
    """Drop paragraph-less items whose title recurs later (a table of contents); keep the others' titles."""
    later_titles: dict[str, int] = {}
    for s in sections:
        for it in s.items:
            if it.paragraphs and it.title:
                later_titles[normalise_space(it.title).lower()] = it.line
    for s in sections:
        kept = []
        for it in s.items:
            if not it.paragraphs:
                seen = later_titles.get(normalise_space(it.title or "").lower())
                if seen is not None and seen > it.line:
                    continue
                if it.title is None:
                    continue
            kept.append(it)
        s.items = kept
    for s in sections:
        for it in s.items:
            if not it.paragraphs:
                # A title-only item: its title line is its only content, so it becomes the paragraph.
                start = text.find(it.title or "", it.char_start)
                it.paragraphs.append(Paragraph(1, it.title or "", start, start + len(it.title or ""), it.line))
