"""Bulletins and their structure: bulletin → sections → numbered items → paragraphs.

``parse_bulletin(text, source, metadata)`` turns the text of one bulletin (plain text or markdown)
into a :class:`Bulletin`. ``read_bulletin(path)`` reads a file and its metadata and parses it,
raising :class:`~retrieval.errors.BulletinParseError` (with file and line) on bad input.

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
  post (:func:`retrieval.posts.group_itemless_post`), so its paragraphs are grouped and cited by item.
- Front matter may use blog keys (``published_date``, ``canonical_url``, ``author``…; see
  :func:`retrieval.posts.post_metadata`).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BulletinParseError
from .posts import drop_previews, group_itemless_post, normalise_space, post_metadata, split_list_entries

log = logging.getLogger(__name__)

#: File name endings read as bulletins by :func:`find_bulletin_files`.
BULLETIN_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
#: Endings read as HTML (their visible text is extracted first, see :mod:`retrieval.html`).
HTML_SUFFIXES = (".html", ".htm")
#: Sidecar metadata file: ``<bulletin stem>.meta.toml`` beside the bulletin.
METADATA_SUFFIX = ".meta.toml"
#: Metadata keys a sidecar or front matter may set.
METADATA_KEYS = ("title", "publisher", "date", "url", "provenance")

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^[-*+]\s+")
_BOLD_TITLE = re.compile(r"^[-*+]\s+\*\*(.+?)\*\*")
_NUMBERED = re.compile(r"^(\d{1,3})\s*[.)]\s*(\S.*)$")
_FIELD = re.compile(r"^[A-Z][A-Za-z ]{0,24}:\s*\S")
_BYLINE = re.compile(r"^By\s+[A-Z][^.!?]{0,80}$")
_BOILERPLATE = re.compile(r"^(back to top|return to top|top of page)\W*$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Paragraph:
    """A verbatim block of item (or section) text.

    ``number`` is 1-based within its item, or within its section when it belongs to no item;
    ``char_start``/``char_end`` are offsets into the bulletin's source text (characters, not bytes);
    ``line`` is the 1-based line of its first character; ``subheading`` the sub-heading above it.
    """

    number: int
    text: str
    char_start: int
    char_end: int
    line: int
    subheading: str | None = None


@dataclass
class Item:
    """One entry of a section: its number (as printed, or its position for bullets), title and paragraphs.

    ``fields`` holds short ``Label: value`` lines printed under the title (e.g. ``Date: April 24, 2025``).
    """

    number: int
    title: str | None
    line: int
    paragraphs: list[Paragraph] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    char_start: int = 0  # offset of the item's heading line in the source


@dataclass
class Section:
    """A heading inside a bulletin, with its items and any paragraphs that belong to no item.

    ``title`` is None for the text before the first heading (an introduction).
    """

    title: str | None
    line: int
    items: list[Item] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Bulletin:
    """One issue of a newsletter.

    Attributes:
        source_file: the file name (no directory); the bulletin's key in the index.
        source_text: the whole file as read (UTF-8 decoded); paragraph offsets point into it.
        title, publisher, date, url: metadata; ``date`` is ISO ``YYYY``, ``YYYY-MM`` or
            ``YYYY-MM-DD``, or None when unknown.
        has_metadata: False when neither a sidecar nor front matter was found (title then comes
            from the first line and the date is unknown).
    """

    source_file: str
    source_text: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    byline: str | None = None
    has_metadata: bool = False
    sections: list[Section] = field(default_factory=list)

    def paragraphs(self) -> list[tuple[Section, Item | None, Paragraph]]:
        """Every paragraph in reading order, with its section and item (None outside items)."""
        out: list[tuple[Section, Item | None, Paragraph]] = []
        for section in self.sections:
            for p in section.paragraphs:
                out.append((section, None, p))
            for item in section.items:
                for p in item.paragraphs:
                    out.append((section, item, p))
        out.sort(key=lambda t: t[2].char_start)
        return out


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


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """Parse ``---``-delimited ``key: value`` front matter; returns (metadata, body offset)."""
    if not text.startswith("---"):
        return {}, 0
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "---":
        return {}, 0
    meta: dict[str, str] = {}
    pos = first_nl + 1
    line_no = 2
    while pos < len(text):
        nl = text.find("\n", pos)
        nl = len(text) if nl < 0 else nl
        line = text[pos:nl]
        if line.strip() == "---":
            return meta, nl + 1
        if line.strip() and not line.lstrip().startswith("#") and not line[:1].isspace() and not line.startswith("- "):
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise BulletinParseError("", f"front matter line is not 'key: value': {line.strip()!r}", line_no)
            meta[key.strip().lower()] = value.strip().strip("\"'")
        pos = nl + 1
        line_no += 1
    raise BulletinParseError("", "front matter opened with '---' is never closed", 1)


def _validate_metadata(meta: dict, file: str) -> dict[str, str]:
    out = {}
    for key, value in meta.items():
        if key not in METADATA_KEYS:
            continue
        out[key] = str(value).strip()
    for key, value in meta.items():
        if key in METADATA_KEYS and not isinstance(value, (str, int)):
            raise BulletinParseError(file, f"metadata {key} must be text, got {type(value).__name__} {value!r}")
    date = out.get("date")
    if date and not is_iso_date(date):
        raise BulletinParseError(file, f"metadata date must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got {date!r}")
    return out


def is_iso_date(value: str) -> bool:
    """True for a real calendar date written ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (2024-02-30 is not)."""
    if not _DATE.match(value):
        return False
    fmt = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}[len(value)]
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


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
        front, body_offset = _front_matter(text[bom:])
    except BulletinParseError as exc:
        raise BulletinParseError(source_file, exc.reason, exc.line) from None
    body_offset += bom
    front_meta, author = post_metadata(front)
    meta = _validate_metadata({**front_meta, **(metadata or {})}, source_file)
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
            a, b = normalise_space(first.text).lower(), normalise_space(title).lower()
            first_is_title = a == b or (min(len(a), len(b)) > 20 and (a in b or b in a))
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
            section, item, subheading = Section(title=b.title.rstrip(":").strip(), line=b.line), None, None
            sections.append(section)
        elif b.kind in item_kinds:
            sec = current_section(b.line)
            number = b.number if b.kind == "numbered" else len(sec.items) + 1
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


def read_metadata(path: Path) -> dict[str, str]:
    """Read the sidecar ``<stem>.meta.toml`` beside a bulletin; {} when there is none.

    Raises:
        BulletinParseError: when the sidecar is not valid TOML (with its line), or a value is bad.
    """
    sidecar = path.with_name(path.stem + METADATA_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BulletinParseError(str(sidecar), f"cannot read the metadata file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        m = re.search(r"line (\d+)", str(exc))
        raise BulletinParseError(str(sidecar), f"invalid metadata: {exc}", line or (int(m.group(1)) if m else None)) from None
    return _validate_metadata(data, str(sidecar))


def decode_bulletin_bytes(data: bytes, file: str) -> str:
    """Decode a bulletin file's bytes as UTF-8 text, the way ``open(path, encoding="utf-8").read()`` does.

    Line endings are universal (``\r\n`` and ``\r`` become ``\n``) and a BOM stays as U+FEFF, so
    citation offsets index the text a reader gets from ``open(path, encoding="utf-8").read()``.

    Raises:
        BulletinParseError: for an empty file, UTF-16 text, a PDF, a binary file (NUL bytes) or
            bytes that are not UTF-8 (naming the line of the first bad byte).
    """
    if not data.strip():
        raise BulletinParseError(file, "the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BulletinParseError(file, "UTF-16 text: save the file as UTF-8")
    if data.startswith(b"%PDF"):
        raise BulletinParseError(file, "a PDF file: extract its text into a .txt or .md file first")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise BulletinParseError(file, "binary file (contains NUL bytes), not a text bulletin", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BulletinParseError(file, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_bulletin(path: str | Path) -> Bulletin:
    """Read and parse one bulletin file with its sidecar metadata.

    An ``.html``/``.htm`` file is first turned into text (:func:`retrieval.html.html_to_text`); its
    ``<title>`` and ``<meta>`` date/URL/publisher fill in what the sidecar does not give, and
    citation offsets then index the extracted text.

    Raises:
        BulletinParseError: unreadable, empty, binary, non-UTF-8 or unparseable file, or bad metadata.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise BulletinParseError(str(path), "not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BulletinParseError(str(path), f"cannot read the file: {exc.strerror or exc}") from None
    text = decode_bulletin_bytes(data, str(path))
    metadata = read_metadata(path)
    if path.suffix.lower() in HTML_SUFFIXES:
        from .html import html_to_text

        text, page_meta = html_to_text(text)
        if not text.strip():
            raise BulletinParseError(str(path), "the HTML page has no visible text")
        metadata = {**page_meta, **metadata}
    try:
        bulletin = parse_bulletin(text, path.name, metadata)
    except BulletinParseError as exc:
        raise BulletinParseError(str(path), exc.reason, exc.line) from None
    if bulletin.has_metadata and bulletin.date is None:
        log.warning("%s: its metadata gives no date (a sidecar date, or front matter date/published_date); "
                    "the date is unknown", path)
    return bulletin


def find_bulletin_files(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and directories into bulletin files.

    Returns:
        (bulletin files sorted by name, directories that were scanned). A directory is scanned
        non-recursively for names ending in :data:`BULLETIN_SUFFIXES`; a file named directly is
        taken whatever its ending.
    """
    files: list[Path] = []
    dirs: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        if str(raw).strip() == "":
            raise BulletinParseError("''", "an empty path was given")
        p = Path(raw)
        if p.resolve() in seen:
            continue
        seen.add(p.resolve())
        if p.is_dir():
            dirs.append(p)
            files.extend(sorted(f for f in p.iterdir() if f.is_file() and f.name.lower().endswith(BULLETIN_SUFFIXES)
                                and not f.name.startswith(".")))
        else:
            files.append(p)
    return files, dirs
