"""HTML bulletins: the text of the page's main content as blocks, for :func:`retrieval.intake.parser.parse_bulletin`.

``html_to_text(html)`` finds the page's main content (:func:`retrieval.intake.html_main.main_content`:
``<main>``, ``<article>``, else the element trafilatura points at) and walks it with BeautifulSoup
(the stdlib ``html.parser`` backend), writing one block per block-level element, separated by blank
lines, the way a browser shows the page:

- ``<h1>``–``<h6>`` become markdown headings (``## Enforcement``), which the parser makes sections
  and, one level deeper, items;
- a list is one block of ``- …`` lines, a nested list indented under its entry; a list (or any
  block) made only of links (site menus, "related articles", share buttons) is left out: nothing in
  it answers a question;
- a data table becomes a pipe table (``| a | b |``), whose rows the parser makes one paragraph each
  with the header cells as their context; a layout table (nested tables, headings in cells, one
  column) is read as the blocks in its cells;
- a ``<dl>`` is one block, a line per term and per description;
- inside a paragraph whitespace folds as a browser folds it (except in ``<pre>``), a single
  ``<br>`` is a space and two in a row end the paragraph (but lines that are mostly ``Label: value``
  fields, such as a forwarded message's headers, keep their breaks);
- ``<sup>`` of digits is written ``^`` and its digits (``10<sup>26</sup>`` → ``10^26``), other
  ``<sup>``/``<sub>`` text is kept as it is; a footnote reference (a ``<sup>`` that is only a link
  to an anchor of the page) and an inline page marker (``( printed page 75192)``, ``[[Page 7]]``)
  are left out of the sentence;
- two links side by side with nothing between them (``<a>Danny Tobey</a><a>Ashley Carr</a>``) get
  a space, as their boxes do on screen;
- ``<script>``, ``<style>``, ``<nav>`` (and ``role="navigation"``/``search``), forms' controls, hidden elements (``hidden``,
  ``aria-hidden``, ``display:none``) are left out; so are the page-level ``<header>``,
  ``<footer>`` and ``<aside>`` when no main content element was found.

For an HTML bulletin the *source text* that citations index is this extracted text (stored with the
index generation), not the markup: ``char_start``/``char_end`` point into it.
"""

from __future__ import annotations

import logging
import re

from retrieval.text import is_iso_date

from .html_main import main_content

log = logging.getLogger(__name__)

#: Elements that start a new block.
BLOCKS = frozenset("h1 h2 h3 h4 h5 h6 p li blockquote pre dt dd td th caption figcaption div section article "
                   "header footer main address ul ol dl table tr tbody thead tfoot figure details summary "
                   "aside hr center".split())
#: Elements whose content is not text a reader sees.
SKIP = frozenset("script style noscript template nav svg iframe object head button select textarea input "
                 "option label dialog".split())
#: Page-level chrome, left out when the main content could not be told from the page.
CHROME = frozenset("header footer aside".split())
_HEADING = {f"h{i}": i for i in range(1, 7)}
#: Blocks that make a list entry a panel of its own rather than one line (a lone <p> does not).
_ENTRY_BLOCKS = [*_HEADING, "table", "dl", "blockquote", "pre", "section", "article"]
_WS = re.compile(r"[ \t\n\r\f\v]+")  # as a browser folds: not non-breaking spaces
_NO_SPACE = re.compile(r"\s+")
_BR = "\x00"  # a <br> while a paragraph is being written
_PAGE_MARKER = re.compile(r"^[\[(]*\s*(?:printed\s+)?page\s+\d+\s*[\])]*$", re.IGNORECASE)
_DIGITS = re.compile(r"^[-+−–]?[\d.,]+$")
_SEPARATORS = re.compile(r"[\s|•·,/–—-]+")
_LABEL_LINE = re.compile(r"^\**[A-Z][\w -]{0,24}\**\s*:")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def html_to_text(html: str, *, main_only: bool = True) -> tuple[str, dict[str, str]]:
    """The visible text of an HTML bulletin's main content as blank-line separated blocks, and its metadata.

    Args:
        html: the page's markup.
        main_only: find the main content (True, for web pages) or read the whole body (an e-mail).

    Returns:
        (text, metadata) where metadata may hold ``title`` (``<title>``), ``date`` (a ``<meta>`` date or
        ``<time datetime>``, when it is an ISO date), ``url`` (canonical link or ``og:url``),
        ``publisher`` (``og:site_name`` or ``<meta name="publisher">``).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    meta = _metadata(soup)
    for el in soup.find_all(SKIP):
        el.decompose()
    for el in soup.find_all("form"):
        if el.find(["p", "h1", "h2", "h3", "article", "main"]) is None:
            el.decompose()  # a search box or sign-up form; a form around the whole page (ASP.NET) is kept
    for el in soup.find_all(lambda tag: tag.get("role") in ("navigation", "search")):
        el.decompose()
    for el in soup.find_all(_is_hidden):
        el.decompose()
    root, how = main_content(soup, html) if main_only else (soup.body or soup, "body")
    if how == "body" and main_only:
        for el in root.find_all(CHROME):
            if el.find_parent(["article", "main"]) is None:
                el.decompose()
    log.debug("main content of the page: %s <%s>", how, getattr(root, "name", "?"))
    writer = _Writer()
    writer.walk(root)
    writer.flush()
    blocks = writer.blocks
    return "\n\n".join(blocks) + ("\n" if blocks else ""), meta


def _is_hidden(el) -> bool:
    if not hasattr(el, "attrs") or el.attrs is None:
        return False
    return ("hidden" in el.attrs or el.attrs.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(el.attrs.get("style", "") or "")))


def _fold(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _is_link_only(el) -> bool:
    """True when all of el's visible text sits inside two or more links (a menu, a list of related pages)."""
    links = [a for a in el.find_all("a") if a.find_parent("a") is None]
    if len(links) < 2:
        return False
    total = len(_SEPARATORS.sub("", el.get_text()))
    in_links = sum(len(_SEPARATORS.sub("", a.get_text())) for a in links)
    return total > 0 and in_links >= total


def _is_data_table(table) -> bool:
    """A table of data (rows of cells), not one laid out for the page: no nested table or heading, and
    at least two rows with text in two or more cells."""
    if table.find("table") is not None or table.find(list(_HEADING)) is not None:
        return False
    rows = [r for r in table.find_all("tr") if r.find_parent("table") is table]
    wide = sum(1 for r in rows if sum(1 for c in r.find_all(["td", "th"], recursive=False) if c.get_text(strip=True)) >= 2)
    return wide >= 2


class _Writer:
    """Writes the blocks of an element tree; ``buf`` holds the inline text of the block being written."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buf: list[str] = []

    def flush(self, heading: int | None = None, pre: bool = False) -> None:
        raw, self.buf = "".join(self.buf), []
        if pre:
            text = raw.replace(_BR, "\n").strip("\n")
            if text.strip():
                self.blocks.append(text)
            return
        for piece in re.split(_BR + r"(?:\s*" + _BR + ")+", raw):  # two <br> in a row end a paragraph
            lines = [_fold(ln) for ln in piece.split(_BR) if ln.strip()]
            labelled = sum(1 for ln in lines if _LABEL_LINE.match(ln))
            # lines of "Label: value" fields (a forwarded message's headers) keep their breaks
            text = "\n".join(lines) if labelled >= 2 and 2 * labelled >= len(lines) else " ".join(lines)
            if not text:
                continue
            self.blocks.append("#" * heading + " " + text if heading else text)

    def inline(self, el) -> str:
        """el's content as one folded line (for headings, list entries and cells)."""
        sub = _Writer()
        sub.walk(el, inline=True)
        return _fold("".join(sub.buf).replace(_BR, " "))

    def walk(self, el, inline: bool = False) -> None:
        from bs4 import NavigableString, Tag

        prev = None
        for child in el.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment, doctype or processing instruction
                    self.buf.append(str(child))
                    prev = None if str(child).strip() else prev
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                self.buf.append(_BR)
                prev = None
                continue
            if name in BLOCKS or child.find(BLOCKS) is not None:
                if inline:  # a block inside a line (a heading, an entry): a space on each side
                    self.buf.append(" ")
                    self.walk(child, inline=True)
                    self.buf.append(" ")
                else:
                    self.flush()
                    self.block(child)
                prev = None
                continue
            if name in ("sup", "sub"):
                self._script(child)
            elif _PAGE_MARKER.match(_fold(child.get_text())):
                pass  # ( printed page 75193): the print edition's page, not part of the sentence
            else:
                if prev is not None and "a" in (name, prev.name) and self._glued(child):
                    self.buf.append(" ")
                self.walk(child, inline=True)
            prev = child

    def _glued(self, child) -> bool:
        """True when child's text would run into the text before it (no space between two boxes)."""
        before = "".join(self.buf).replace(_BR, " ")
        after = _fold(child.get_text())
        return bool(before) and not before[-1].isspace() and bool(after) and after[0].isalnum()

    def _script(self, el) -> None:
        text = _fold(el.get_text())
        links = el.find_all("a")
        if links and all(str(a.get("href", "")).startswith("#") for a in links) and len(text) <= 6:
            return  # a footnote reference: the footnote itself is a paragraph of its own
        before = "".join(self.buf)
        if el.name == "sup" and _DIGITS.match(text) and before and not before[-1].isspace():
            self.buf.append("^" + text)
        else:
            self.walk(el, inline=True)

    def block(self, el) -> None:
        """Write one block-level element (and what it contains)."""
        name = el.name
        if name in ("ul", "ol") and _is_link_only(el):
            return
        if name not in _HEADING and name not in ("table", "tr", "td", "th") and _is_link_only(el):
            return
        if name in _HEADING:
            text = self.inline(el)
            if text:
                self.blocks.append("#" * _HEADING[name] + " " + text)
        elif name in ("ul", "ol"):
            lines = self._list_lines(el, 0)
            if lines:
                self.blocks.append("\n".join(lines))
        elif name == "li":  # a list entry outside a list
            text = self.inline(el)
            if text:
                self.blocks.append("- " + text)
        elif name == "table" and _is_data_table(el):
            table = self._table(el)
            if table:
                self.blocks.append(table)
        elif name == "dl":
            lines = [self.inline(c) for c in el.find_all(["dt", "dd"]) if c.find_parent("dl") is el]
            if any(lines):
                self.blocks.append("\n".join(line for line in lines if line))
        elif name == "pre":
            self.buf.append(el.get_text())
            self.flush(pre=True)
        elif name == "hr":
            self.flush()
        else:
            self.walk(el)
            self.flush()

    def _list_lines(self, el, depth: int) -> list[str]:
        """The ``- …`` lines of a list, nested lists indented; an entry that holds blocks of its own
        (headings, paragraphs, tables: a panel, not a line) is written as those blocks instead."""
        lines: list[str] = []
        for li in [li for li in el.find_all("li") if li.find_parent(["ul", "ol"]) is el]:
            nested = [n.extract() for n in li.find_all(["ul", "ol"]) if n.find_parent("li") is li]
            if li.find(_ENTRY_BLOCKS) is not None:
                if lines:
                    self.blocks.append("\n".join(lines))
                    lines = []
                self.walk(li)
                self.flush()
                for n in nested:
                    self.block(n)
                continue
            text = self.inline(li)
            if text:
                lines.append("  " * depth + "- " + text)
            for n in nested:
                if not _is_link_only(n):
                    lines.extend(self._list_lines(n, depth + 1))
        return lines

    def _table(self, table) -> str:
        rows: list[list[str]] = []
        header: list[str] | None = None
        for tr in table.find_all("tr"):
            if tr.find_parent("table") is not table:
                continue
            cells = tr.find_all(["td", "th"], recursive=False)
            texts = [self.inline(c).replace("|", "\\|") for c in cells]
            if not any(texts):
                continue
            is_head = header is None and not rows and (tr.find_parent("thead") is not None
                                                       or all(c.name == "th" for c in cells))
            if is_head:
                header = texts
            else:
                rows.append(texts)
        caption = table.find("caption")
        if caption is not None and self.inline(caption):
            self.blocks.append(self.inline(caption))
        if not rows:
            return ""
        width = max(len(r) for r in rows + ([header] if header else []))
        head = header or [""] * width
        lines = ["| " + " | ".join(head + [""] * (width - len(head))) + " |", "|" + " --- |" * width]
        lines += ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
        return "\n".join(lines)


def _metadata(soup) -> dict[str, str]:
    meta: dict[str, str] = {}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = _WS.sub(" ", soup.title.get_text()).strip()

    def content(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
            if tag and tag.get("content", "").strip():
                return tag["content"].strip()
        return None

    date = content("date", "dc.date", "DC.date", "article:published_time", "pubdate")
    if not date and soup.find("time", attrs={"datetime": True}):
        date = soup.find("time", attrs={"datetime": True})["datetime"]
    if date:
        for candidate in (date[:10], date[:7], date[:4]):
            if is_iso_date(candidate):
                meta["date"] = candidate
                break
    link = soup.find("link", attrs={"rel": "canonical"})
    url = (link.get("href") if link else None) or content("og:url")
    if url and url.startswith(("http://", "https://")):
        meta["url"] = url
    publisher = content("og:site_name", "publisher", "author")
    if publisher:
        meta["publisher"] = publisher
    return meta
