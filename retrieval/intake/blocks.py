"""Blocks of a bulletin's text, classified: the first step of :func:`retrieval.intake.parser.parse_bulletin`.

``text_blocks(text, offset)`` splits plain text (and the text extracted from HTML or PDF) at blank
lines, and at every markdown heading or top-level bullet that starts a line;
``classified(text, offset, markdown)`` classifies each block (see :class:`Block`), reading a
markdown file's blocks with its parser (:func:`retrieval.intake.markdown.markdown_blocks`) instead.
Every block is a verbatim slice of the text: ``text[block.start:block.end] == block.text``.

A pipe table (``| a | b |`` lines, the second a ``| --- |`` delimiter row) is a ``table`` block in
either kind of text: :func:`table_rows` gives its rows, each of which the parser makes a paragraph
with the header row as its context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^[-*+]\s+")
_BOLD_TITLE = re.compile(r"^[-*+]\s+(?:[^\w\s*]{1,12}\s*)?\*\*(.+?)\*\*")  # emoji may precede the title
_NUMBERED = re.compile(r"^(\d{1,3})\s*[.)]\s*(\S.*)$")
_FIELD = re.compile(r"^[A-Z][A-Za-z ]{0,24}:\s*\S")
_BYLINE = re.compile(r"^By\s+[A-Z][^.!?]{0,80}$")
_BOILERPLATE = re.compile(r"^(back to top|return to top|top of page)\W*$", re.IGNORECASE)
_MD_BREAK = re.compile(r"^(?:#{1,6}\s|[-*+]\s)", re.MULTILINE)
_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$")
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class Block:
    """One classified block; ``text == source[start:end]``, ``line`` 1-based.

    ``kind``: title | md_heading (``number`` is the level, ``title`` its text without markup) |
    bullet (``title`` from a ``**bold**`` lead) | numbered (``number``, ``title``; ``body`` when the
    line carries its own text) | field | byline | boilerplate | heading (a heading-like line) |
    table (``title``: the header row's cells, or None) | footnote (``title``: its label) | quote (a
    paragraph that is never a heading: a blockquote's, code, raw HTML) | paragraph.
    """

    kind: str
    text: str
    start: int
    end: int
    line: int
    number: int | None = None
    title: str | None = None
    body: bool = False


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


def text_blocks(text: str, offset: int) -> list[tuple[str, int, int, int]]:
    """Split text[offset:] into (block text, start, end, line), surrounding space trimmed, markdown
    headings and top-level bullets starting blocks of their own."""
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
        result.extend(_split_markdown_block(text[s + lead: e - trail], s + lead, e - trail, ln))
    return result


def is_heading_like(line: str) -> bool:
    """A short line with no closing punctuation (or all bold): a heading, unless its neighbours make it a list."""
    if "\n" in line or len(line) > 80 or len(line.split()) > 10:
        return False
    if line.startswith("**") and line.endswith("**"):
        return True
    return not line.rstrip().endswith((".", "!", ";", ",", ":")) and not _BULLET.match(line)


def is_list_entry(b: Block | None) -> bool:
    """A short unpunctuated single line (a checklist entry) next to a heading-like line makes it a list."""
    return (b is not None and b.kind in ("heading", "paragraph") and "\n" not in b.text
            and len(b.text) <= 80 and not b.text.endswith((".", ":", "!", "?")))


def _is_pipe_table(text: str) -> bool:
    lines = text.split("\n")
    return len(lines) >= 3 and all(_TABLE_LINE.match(ln) for ln in lines) and bool(_DELIMITER_ROW.match(lines[1]))


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def table_rows(block: Block) -> tuple[str | None, list[tuple[str, int, int]]]:
    """The header (cells joined by `` | ``, None when empty) and the body rows (text, start, end) of a
    table block, each row a verbatim slice of the source."""
    lines, pos = [], block.start
    for raw in block.text.split("\n"):
        lead = len(raw) - len(raw.lstrip())
        lines.append((raw.strip(), pos + lead))
        pos += len(raw) + 1
    header = block.title
    if header is None:
        cells = [c for c in _cells(lines[0][0]) if c]
        header = " | ".join(cells) or None
    rows = [(t, s, s + len(t)) for t, s in lines[1:] if t and not _DELIMITER_ROW.match(t)]
    return header, rows


def classify(text: str, start: int, end: int, line: int) -> Block:
    """The kind of one block, from its text (see :class:`Block`)."""
    from .markdown import plain_text

    single = "\n" not in text
    if single and (m := _MD_HEADING.match(text)):
        return Block("md_heading", text, start, end, line, number=len(m.group(1)), title=plain_text(m.group(2)))
    if _BULLET.match(text):
        m = _BOLD_TITLE.match(text)
        return Block("bullet", text, start, end, line, title=plain_text(m.group(1)) if m else None)
    if _is_pipe_table(text):
        return Block("table", text, start, end, line)
    if single and (m := _NUMBERED.match(text)):
        rest = m.group(2).strip()
        titled = len(rest) <= 200 and not rest.endswith((".", ";", ":")) and ". " not in rest
        return Block("numbered", text, start, end, line, number=int(m.group(1)),
                     title=rest if titled else None, body=not titled)
    if single and _BOILERPLATE.match(text):
        return Block("boilerplate", text, start, end, line)
    if single and _BYLINE.match(text):
        return Block("byline", text, start, end, line)
    if single and len(text) <= 80 and _FIELD.match(text) and not text.endswith("."):
        return Block("field", text, start, end, line)
    if single and is_heading_like(text):
        return Block("heading", text.strip("*").strip(), start, end, line)
    return Block("paragraph", text, start, end, line)


def classified(text: str, offset: int, markdown: bool = False) -> list[Block]:
    """The classified blocks of text[offset:]; a markdown file's are found by its parser."""
    if not markdown:
        return [classify(*b) for b in text_blocks(text, offset)]
    from .markdown import markdown_blocks

    out = []
    for b in markdown_blocks(text, offset):
        if b.kind == "heading":
            out.append(Block("md_heading", b.text, b.start, b.end, b.line, number=b.level, title=b.title))
        elif b.kind in ("table", "footnote"):
            out.append(Block(b.kind, b.text, b.start, b.end, b.line, title=b.title))
        elif b.kind == "quote":
            out.append(Block("quote", b.text, b.start, b.end, b.line))
        else:
            out.append(classify(b.text, b.start, b.end, b.line))
    return out
