"""HTML bulletins: the text of the page as blocks, for :func:`retrieval.intake.parser.parse_bulletin`.

``html_to_text(html)`` walks the document with BeautifulSoup (the stdlib ``html.parser`` backend)
and writes one block per block-level element, separated by blank lines: ``<h1>``–``<h6>`` become
markdown headings (``## Enforcement``), ``<li>`` a bullet (``- …``), ``<p>``, ``<div>``, table
cells and the like a paragraph. Whitespace inside a block is folded as a browser folds it (except in
``<pre>``); ``<script>``, ``<style>``, ``<nav>`` and similar are left out. Every word of the page's
visible text is kept, in order.

For an HTML bulletin the *source text* that citations index is this extracted text (stored with the
index generation), not the markup: ``char_start``/``char_end`` point into it.
"""

from __future__ import annotations

import re

from retrieval.text import is_iso_date

#: Elements that start a new block.
BLOCKS = frozenset("h1 h2 h3 h4 h5 h6 p li blockquote pre dt dd td th caption figcaption div section article "
                   "header footer main address ul ol dl table tr tbody thead tfoot figure details summary".split())
#: Elements whose content is not text a reader sees.
SKIP = frozenset("script style noscript template nav svg iframe object head button form select".split())
_HEADING = {f"h{i}": i for i in range(1, 7)}
_WS = re.compile(r"[ \t\n\r\f\v]+")  # as a browser folds: not non-breaking spaces


def html_to_text(html: str) -> tuple[str, dict[str, str]]:
    """The visible text of an HTML bulletin as blank-line separated blocks, and its metadata.

    Returns:
        (text, metadata) where metadata may hold ``title`` (from ``<title>``), ``date`` (from a
        ``<meta>`` date or ``<time datetime>``, when it is an ISO date), ``url`` (canonical link or
        ``og:url``) and ``publisher`` (``og:site_name`` or ``<meta name="publisher">``).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    meta = _metadata(soup)
    for el in soup.find_all(SKIP):
        el.decompose()
    blocks: list[str] = []
    _walk(soup.body or soup, blocks, None)
    return "\n\n".join(blocks) + ("\n" if blocks else ""), meta


def _walk(el, out: list[str], block: str | None) -> None:
    """Append el's blocks to out; block is the name of the nearest enclosing block element."""
    from bs4 import Comment, NavigableString, Tag

    buf: list[str] = []
    for child in el.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            buf.append(str(child))
        elif isinstance(child, Tag):
            if child.name == "br":
                buf.append("\n")
            elif child.name in BLOCKS or child.find(BLOCKS) is not None:
                _flush(buf, out, block)
                buf = []
                _walk(child, out, child.name if child.name in BLOCKS else block)
            else:
                buf.append(child.get_text())
    _flush(buf, out, block)


def _flush(buf: list[str], out: list[str], block: str | None) -> None:
    raw = "".join(buf)
    if block == "pre":
        text = raw.strip("\n")
    else:
        lines = [_WS.sub(" ", line).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line)
    if not text.strip():
        return
    if block in _HEADING:
        text = "#" * _HEADING[block] + " " + text.replace("\n", " ")
    elif block == "li":
        text = "- " + text
    out.append(text)


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
