"""The bulletin parser: text → bulletin → sections → numbered items → paragraphs.

``parse_bulletin(text, source, metadata)`` turns the text of one bulletin (plain text or markdown)
into a :class:`~retrieval.intake.structure.Bulletin`, raising :class:`~retrieval.errors.BulletinParseError`
(with file and line) on bad input. (:func:`retrieval.intake.sources.read_bulletin` reads a file and its
metadata and calls it.)

The parser works on *blocks*: runs of non-blank lines separated by blank lines (a markdown heading
or top-level bullet also starts a block, since markdown lists rarely leave blank lines). Every paragraph it
returns is a verbatim slice of the source, ``source_text[char_start:char_end] == text``. How blocks
are classified (each rule was written against a real bulletin shape, see ``docs/corpus-sources.md``):

- ``# Title`` on the first block, or a first line equal to the metadata title → the bulletin title.
- ``## Heading`` (any markdown heading elsewhere) → a section.
- ``12. Title`` or ``1 .Title`` (one short line) → a numbered item; numbers may restart per section.
- ``- **Title** (url): text`` (a top-level markdown bullet) → an unnumbered item, numbered by its
  position in the section; its first paragraph is the bullet's own text and each nested sub-bullet
  (at any depth) is a paragraph of its own, so ¶N points at the bullet that says it. The same holds
  for list entries inside any paragraph (``Issues:`` then ``  - …`` lines).
- A short line with no closing punctuation (a *heading-like* line) → a section heading when it is
  followed by an item or stands outside an item; a sub-heading inside an item. Two or more
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
from dataclasses import dataclass

from retrieval.errors import BulletinParseError
from retrieval.text import normalise_space

from .metadata import front_matter, validate_metadata
from .posts import drop_previews, group_itemless_post, post_metadata, split_list_entries
from .structure import Bulletin, Item, Paragraph, Section

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^[-*+]\s+")
_BOLD_TITLE = re.compile(r"^[-*+]\s+(?:[^\w\s*]{1,12}\s*)?\*\*(.+?)\*\*")  # emoji may precede the title
_NUMBERED = re.compile(r"^(\d{1,3})\s*[.)]\s*(\S.*)$")
_FIELD = re.compile(r"^[A-Z][A-Za-z ]{0,24}:\s*\S")
_BYLINE = re.compile(r"^By\s+[A-Z][^.!?]{0,80}$")
_BOILERPLATE = re.compile(r"^(back to top|return to top|top of page)\W*$", re.IGNORECASE)


@dataclass(frozen=True)
class _Block:
    kind: str  # title | md_heading | bullet | numbered | field | byline | heading | paragraph
    text: str
    start: int
    end: int
    line: int
    number: int | None = None
    title: str | None = None
    body: bool = False  # numbered line that carries its own body text


_MD_BREAK = re.compile(r"^(?:#{1,6}\s|[-*+]\s)", re.MULTILINE)


def _split_markdown_block(text: str, start: int, end: int, line: int) -> list[tuple[str, int, int, int]]:
    """Split a block at every markdown heading or top-level bullet that starts one of its lines.

    Markdown lists usually have no blank line between their items, nor a heading and the list
    below it; each such line starts a block of its own. Indented (nested) bullets stay attached.
    """
    cuts = [m.start() for m in _MD_BREAK.finditer(text) if m.start() > 0]
    if not cuts or not _MD_BREAK.match(text):  # only blocks that are markdown from their first line
        return [(text, start, end, line)]
    pieces, prev = [], 0
    for cut in cuts + [len(text)]:
        piece = text[prev:cut].rstrip()
        if piece.strip():
            pieces.append((piece, start + prev, start + prev + len(piece), line + text.count("\n", 0, prev)))
        prev = cut
    return pieces


def _blocks(text: str, offset: int) -> list[tuple[str, int, int, int]]:
    """Split text[offset:] into (block text, start, end, line) with leading/trailing space trimmed."""
    out = []
    pos = offset
    start = None
    line_no = text.count("\n", 0, offset) + 1
    start_line = line_no
    for raw in re.findall(r"[^\n]*\n|[^\n]+$", text[offset:]):  # "\n" only: line numbers match editors
        if raw.strip():
            if start is None:
                start, start_line = pos, line_no
        elif start is not None:
            out.append((start, pos, start_line))
            start = None
        pos += len(raw)
        line_no += 1
    if start is not None:
        out.append((start, pos, start_line))
    result = []
    for s, e, ln in out:
        chunk = text[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk) - len(chunk.rstrip())
        result.append((text[s + lead : e - trail], s + lead, e - trail, ln))
    return result


def _is_heading_like(line: str) -> bool:
    if "\n" in line or len(line) > 80 or len(line.split()) > 10:
        return False
    if line.startswith("**") and line.endswith("**"):
        return True
    return not line.rstrip().endswith((".", "!", ";", ",", ":")) and not _BULLET.match(line)


def _is_list_entry(b: _Block | None) -> bool:
    """A short unpunctuated single line (a checklist entry) next to a heading-like line makes it a list."""
    return (b is not None and b.kind in ("heading", "paragraph") and "\n" not in b.text
            and len(b.text) <= 80 and not b.text.endswith((".", ":", "!", "?")))


def _classify(text: str, start: int, end: int, line: int) -> _Block:
    single = "\n" not in text
    if single and (m := _MD_HEADING.match(text)):
        return _Block("md_heading", text, start, end, line, number=len(m.group(1)), title=m.group(2))
    if _BULLET.match(text):
        m = _BOLD_TITLE.match(text)
        return _Block("bullet", text, start, end, line, title=m.group(1).strip() if m else None)
    if single and (m := _NUMBERED.match(text)):
        rest = m.group(2).strip()
        titled = len(rest) <= 200 and not rest.endswith((".", ";", ":")) and ". " not in rest
        return _Block("numbered", text, start, end, line, number=int(m.group(1)),
                      title=rest if titled else None, body=not titled)
    if single and _BOILERPLATE.match(text):
        return _Block("boilerplate", text, start, end, line)
    if single and _BYLINE.match(text):
        return _Block("byline", text, start, end, line)
    if single and len(text) <= 80 and _FIELD.match(text) and not text.endswith("."):
        return _Block("field", text, start, end, line)
    if single and _is_heading_like(text):
        return _Block("heading", text.strip("*").strip(), start, end, line)
    return _Block("paragraph", text, start, end, line)



def parse_bulletin(text: str, source_file: str, metadata: dict | None = None) -> Bulletin:
    """Parse one bulletin's text into sections, items and paragraphs.

    Args:
        text: the whole file, decoded; front matter (``---`` … ``---``) is read and skipped.
        source_file: the bulletin's file name, used in citations and errors.
        metadata: title/publisher/date/url from a sidecar; front matter values override nothing
            given here.

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
    meta = validate_metadata({**front_meta, **(metadata or {})}, source_file)
    raw_blocks = [piece for b in _blocks(text, body_offset) for piece in _split_markdown_block(*b)]
    if not raw_blocks:
        raise BulletinParseError(source_file, "no text found (the file is empty or only whitespace)")
    blocks = [_classify(*b) for b in raw_blocks]

    # The title block: a level-1 heading first, or a first line equal to the metadata title.
    first = blocks[0]
    title = meta.get("title")
    first_is_title = False
    if first.kind == "md_heading" and first.number == 1:
        first_is_title = True
        title = title or first.title
    elif "\n" not in first.text:
        if title:
            seen, want = normalise_space(first.text).lower(), normalise_space(title).lower()
            first_is_title = seen == want or (min(len(seen), len(want)) > 20 and (seen in want or want in seen))
        elif first.kind in ("heading", "numbered") or (len(first.text) <= 200 and not first.text.endswith(".")):
            first_is_title, title = True, first.text
    if not title:
        line = normalise_space(first.text.splitlines()[0])
        title = line if len(line) <= 120 else line[:117].rsplit(" ", 1)[0] + "…"
    if first_is_title:
        blocks = blocks[1:]

    bulletin = Bulletin(
        source_file=source_file, source_text=text, title=title, publisher=meta.get("publisher"),
        date=meta.get("date"), url=meta.get("url"), has_metadata=bool(meta),
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

    def add_paragraph(b: _Block) -> None:
        owner = item if item is not None else current_section(b.line)
        if b.kind not in ("bullet", "paragraph"):
            owner.paragraphs.append(Paragraph(len(owner.paragraphs) + 1, b.text, b.start, b.end, b.line, subheading))
            return
        # each (nested) list entry is a paragraph of its own, headed by its parent entry when short
        for text_, start, end, line, parent in split_list_entries(b.text, b.start, b.line, b.kind == "paragraph"):
            owner.paragraphs.append(Paragraph(len(owner.paragraphs) + 1, text_, start, end, line, parent or subheading))

    item_kinds = ("numbered", "bullet")
    for i, b in enumerate(blocks):
        if b.kind == "heading":
            prev = blocks[i - 1] if i > 0 else None
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if nxt is not None and nxt.kind in item_kinds:
                section, item, subheading = Section(title=b.text, line=b.line), None, None
                sections.append(section)
            elif _is_list_entry(prev) or _is_list_entry(nxt):
                add_paragraph(b)  # one entry of a list of short lines, not a heading
            elif item is not None and nxt is not None and nxt.kind != "md_heading":
                subheading = b.text
            else:
                section, item, subheading = Section(title=b.text, line=b.line), None, None
                sections.append(section)
        elif b.kind == "md_heading":
            section, item, subheading = Section(title=(b.title or "").rstrip(":").strip(), line=b.line), None, None
            sections.append(section)
        elif b.kind in item_kinds:
            sec = current_section(b.line)
            number = b.number if b.kind == "numbered" and b.number is not None else len(sec.items) + 1
            item, subheading = Item(number=number, title=b.title, line=b.line, char_start=b.start), None
            sec.items.append(item)
            if b.kind == "bullet" or b.body:
                add_paragraph(b)
        elif b.kind == "field" and item is not None:
            item.fields.append(b.text)
        else:  # paragraph, a field outside an item, a byline out of place
            add_paragraph(b)

    _drop_table_of_contents(sections, text)
    drop_previews(sections)
    sections = group_itemless_post(sections, text)
    bulletin.sections = [s for s in sections if s.items or s.paragraphs]
    if not bulletin.sections:
        raise BulletinParseError(source_file, "no paragraphs found: the file holds only a title or headings")
    return bulletin


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
