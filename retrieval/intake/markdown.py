"""Markdown bulletins read by a real parser (markdown-it-py): the blocks of the file, as slices of it.

``markdown_blocks(text, offset)`` parses ``text[offset:]`` (the body after any front matter) with
markdown-it-py (CommonMark, with GFM tables and the footnote plugin of mdit-py-plugins) and returns
one :class:`MdBlock` per block a reader sees, each a verbatim slice of ``text``
(``text[start:end] == block.text``) so that citation offsets index the source file:

- a heading (ATX ``## …`` or setext ``…\\n===``) → a heading block whose ``title`` is its text
  without markup (``## **Enforcement**`` → ``Enforcement``);
- a paragraph → a block; one made only of template tags (Hugo/Jekyll shortcodes ``{{< gallery >}}``,
  ``{{% … %}}``, ``{% include … %}``, ``{{tableofcontents}}``) is left out, and tags at the start or
  end of a paragraph are cut off it;
- each top-level list entry → a block (nested entries stay in it, for
  :func:`retrieval.intake.posts.split_list_entries`); a list whose entries are only links is left out;
- each paragraph of a blockquote → a block, starting after its ``>`` marker;
- a table → a table block (its rows become paragraphs with the header row as their context);
- a footnote definition (``[^1]: …``) → a footnote block, starting after its label;
- link reference definitions (``[6]: https://…``), raw HTML blocks with little text (buttons,
  iframes, forms, scripts) and thematic breaks give no block.

markdown-it-py was chosen over mistune because its tokens carry their source lines (``map``);
mistune's AST has no positions, so its blocks could not be cited by offset (see ``docs/intake.md``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

#: Template tags of static site generators: Hugo shortcodes, Liquid/Jinja tags and outputs.
TEMPLATE_TAG = re.compile(r"\{\{<(?:(?!>\}\}).)*>\}\}|\{\{%(?:(?!%\}\}).)*%\}\}|\{%(?:(?!%\}).)*%\}"
                          r"|\{\{(?:(?!\}\}).)*\}\}", re.DOTALL)
_TAG_AT_START = re.compile(r"\s*(?:" + TEMPLATE_TAG.pattern + r")\s*", re.DOTALL)
_TAG_AT_END = re.compile(r"\s*(?:" + TEMPLATE_TAG.pattern + r")\s*$", re.DOTALL)
#: A raw HTML block with at least this much visible text is kept as a paragraph (verbatim markup).
MIN_HTML_TEXT = 200
_LABEL = re.compile(r"^\s*\[\^[^\]]+\]:\s*")
_QUOTE_MARK = re.compile(r"^\s*(?:>\s?)+")
_LINK_SEPARATORS = re.compile(r"[\s|•·,;:/–—-]+")


@dataclass(frozen=True)
class MdBlock:
    """One block of a markdown file: ``text == source[start:end]``, ``line`` 1-based.

    ``kind`` is ``heading`` (``level`` 1–6, ``title`` without markup), ``table`` (``title`` is the
    header row's cells joined by `` | ``, or None), ``footnote`` (``title`` is its label),
    ``quote`` (a paragraph of a blockquote) or ``None`` (a paragraph or list entry, classified by
    the parser from its text).
    """

    text: str
    start: int
    end: int
    line: int
    kind: str | None = None
    level: int | None = None
    title: str | None = None


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin

    return MarkdownIt("commonmark").enable("table").use(footnote_plugin)


def plain_text(markdown: str) -> str:
    """The text of an inline markdown fragment without its markup: ``**A** [b](u) `c` `` → ``A b c``."""
    tokens = _parser().parseInline(markdown)
    out: list[str] = []
    for tok in tokens:
        for child in tok.children or []:
            if child.type in ("text", "code_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append(" ")
            elif child.type == "html_inline":
                continue
    return " ".join("".join(out).split())


def _is_link_only(tokens: list, start: int, end: int) -> bool:
    """True when the inline content of tokens[start:end] is only links (and separators)."""
    inline = [t for t in tokens[start:end] if t.type == "inline"]
    if not inline:
        return False
    links = 0
    for tok in inline:
        depth = 0
        for child in tok.children or []:
            if child.type == "link_open":
                depth += 1
                links += 1
            elif child.type == "link_close":
                depth -= 1
            elif depth == 0 and child.type == "text" and _LINK_SEPARATORS.sub("", child.content):
                return False
            elif depth == 0 and child.type in ("code_inline", "image"):
                return False
    return links > 0


def _close(tokens: list, i: int) -> int:
    """The index just after the token that closes tokens[i] (same nesting level)."""
    level = tokens[i].level
    j = i + 1
    while j < len(tokens) and not (tokens[j].level == level and tokens[j].nesting == -1):
        j += 1
    return j + 1


def markdown_blocks(text: str, offset: int = 0) -> list[MdBlock]:
    """The blocks of the markdown body ``text[offset:]``, in reading order, as verbatim slices of ``text``.

    Footnote definitions come last, as markdown renders them.
    """
    body = text[offset:]
    starts = [0]
    for m in re.finditer("\n", body):
        starts.append(m.end())
    first_line = text.count("\n", 0, offset) + 1

    def span(lines: tuple[int, int] | list[int], skip: re.Pattern | None = None, kind: str | None = None,
             **extra) -> MdBlock | None:
        a, b = lines[0], lines[1]
        s = starts[a] if a < len(starts) else len(body)
        e = starts[b] if b < len(starts) else len(body)
        chunk = body[s:e]
        if skip is not None:
            m = skip.match(chunk)
            if m:
                s, chunk = s + m.end(), chunk[m.end():]
        lead = len(chunk) - len(chunk.lstrip())
        stripped = chunk.strip()
        if not stripped:
            return None
        return MdBlock(stripped, offset + s + lead, offset + s + lead + len(stripped), first_line + a, kind, **extra)

    env: dict = {}
    tokens = _parser().parse(body, env)
    out: list[MdBlock] = []
    notes: list[MdBlock] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        end = _close(tokens, i) if tok.nesting == 1 else i + 1
        if tok.type == "heading_open" and tok.map:
            inline = tokens[i + 1]
            title = plain_text(inline.content)
            heading_lines = (tok.map[0], tok.map[1] if tok.markup.startswith("#") else inline.map[1])
            block = span(heading_lines)
            if block is not None and title:
                out.append(MdBlock(block.text, block.start, block.end, block.line, "heading", int(tok.tag[1]), title))
        elif tok.type == "paragraph_open" and tok.map:
            block = _untemplated(span(tok.map))
            if block is not None:
                out.append(block)
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            if not _is_link_only(tokens, i, end):
                j = i + 1
                while j < end - 1:
                    item_end = _close(tokens, j)
                    if tokens[j].type == "list_item_open" and tokens[j].map:
                        block = span(tokens[j].map)
                        if block is not None:
                            out.append(block)
                    j = item_end
        elif tok.type == "blockquote_open":
            j = i + 1
            while j < end - 1:
                inner_end = _close(tokens, j) if tokens[j].nesting == 1 else j + 1
                if tokens[j].map and tokens[j].nesting == 1:
                    block = _untemplated(span(tokens[j].map, _QUOTE_MARK, "quote"))
                    if block is not None:
                        out.append(block)
                j = inner_end
        elif tok.type == "table_open" and tok.map:
            header = [plain_text(t.content) for t in tokens[i:end] if t.type == "inline" and t.level == 4
                      and t.map and t.map[0] == tok.map[0]]
            block = span(tok.map, kind="table", title=" | ".join(header) if any(header) else None)
            if block is not None:
                out.append(block)
        elif tok.type in ("fence", "code_block") and tok.map:
            block = span(tok.map, kind="quote")
            if block is not None:
                out.append(block)
        elif tok.type == "html_block" and tok.map:
            from bs4 import BeautifulSoup

            shown = BeautifulSoup(tok.content, "html.parser").get_text(" ", strip=True)
            if len(shown) >= MIN_HTML_TEXT:
                block = span(tok.map, kind="quote")
                if block is not None:
                    out.append(block)
        elif tok.type == "footnote_open":
            label = tok.meta.get("label", "")
            maps = [t.map for t in tokens[i:end] if t.map]
            if maps:
                block = span((maps[0][0], maps[-1][1]), _LABEL, "footnote", title=str(label))
                if block is not None:
                    notes.append(block)
        if tok.type == "footnote_block_open":
            i += 1  # its footnotes are read one by one
        else:
            i = end
    return out + notes


def _untemplated(block: MdBlock | None) -> MdBlock | None:
    """block without the template tags at its start and end; None when nothing else is left."""
    if block is None or "{" not in block.text:
        return block
    text, start = block.text, block.start
    while m := _TAG_AT_START.match(text):
        text, start = text[m.end():], start + m.end()
    while text and (m := _TAG_AT_END.search(text)):
        text = text[:m.start()]
    if not text.strip():
        return None
    line = block.line + block.text.count("\n", 0, start - block.start)
    return MdBlock(text, start, start + len(text), line, block.kind, block.level, block.title)
