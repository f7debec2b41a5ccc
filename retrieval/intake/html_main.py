"""Where an HTML page's main content is: the element whose text is the bulletin, without the site around it.

``main_content(soup, html)`` returns the element to read, chosen in this order (measured on real
pages, see ``docs/intake.md``):

1. the page's own ``<main>`` (or ``role="main"``) element; of several, the one with the most text;
2. else its ``<article>``: the one article, or the nearest element holding all of them (a page of
   several articles keeps the headings between them);
3. else the element that holds the text trafilatura finds to be the page's main content: the
   deepest element holding at least :data:`COVER` of the characters of the page's blocks whose text
   trafilatura kept (trafilatura's own output is not used as the text: it drops bylines, dates and
   document details, and its structure is coarser than the page's);
4. else (trafilatura finds nothing, or is not installed) the ``<body>``.

Inside the element chosen, :mod:`retrieval.intake.html` still leaves navigation, hidden elements and
link-only lists out; with the ``<body>`` (cases 3 and 4 when they reach it) it also leaves out the
page-level ``<header>``, ``<footer>`` and ``<aside>``.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

#: Share of the matched characters the chosen element must hold (a stray matched footer line does
#: not widen the choice to the whole page).
COVER = 0.9
#: Leaf-like blocks compared with trafilatura's text; shorter blocks ("Home", "Share") prove nothing.
MIN_MATCH_CHARS = 40
_LEAVES = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "dd", "blockquote", "pre", "figcaption")
_NO_SPACE = re.compile(r"\s+")


def _text_len(el) -> int:
    return len(_NO_SPACE.sub("", el.get_text()))


def main_content(soup, html: str):
    """The element holding the page's main content, and how it was found.

    Args:
        soup: the parsed page (BeautifulSoup), scripts and styles already removed.
        html: the page's markup, for trafilatura.

    Returns:
        (element, how) where how is ``"main"``, ``"article"``, ``"trafilatura"`` or ``"body"``.
    """
    body = soup.body or soup
    mains = [el for el in body.find_all(["main"]) + body.find_all(attrs={"role": "main"}) if _text_len(el) > 0]
    if mains:
        return max(mains, key=_text_len), "main"
    articles = [el for el in body.find_all("article") if _text_len(el) > 0]
    if articles:
        return _common_ancestor(articles), "article"
    found = _trafilatura_root(body, html)
    if found is not None and found is not body:
        return found, "trafilatura"
    return body, "body"


def _common_ancestor(elements: list):
    """The nearest element that contains every element of ``elements`` (one element: itself)."""
    if len(elements) == 1:
        return elements[0]
    chains = [[el, *el.parents] for el in elements]
    shared = set(map(id, chains[0]))
    for chain in chains[1:]:
        shared &= set(map(id, chain))
    return next(el for el in chains[0] if id(el) in shared)


def _trafilatura_root(body, html: str):
    """The deepest element of body holding COVER of the text trafilatura keeps, or None."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a dependency; the body is read instead
        log.debug("trafilatura is not installed; reading the whole body")
        return None
    try:
        kept = trafilatura.extract(html, include_tables=True, include_comments=False, favor_recall=True)
    except Exception:  # noqa: BLE001 - the library's failure only means no main content was found
        log.debug("trafilatura could not read the page", exc_info=True)
        return None
    if not kept:
        return None
    target = _NO_SPACE.sub("", kept)
    weight: dict[int, int] = {}
    by_id = {}
    total = 0
    for leaf in body.find_all(_LEAVES):
        if leaf.find(_LEAVES) is not None:
            continue  # compare the innermost blocks only
        text = _NO_SPACE.sub("", leaf.get_text())
        if len(text) < MIN_MATCH_CHARS or text not in target:
            continue
        total += len(text)
        for anc in [leaf, *leaf.parents]:
            weight[id(anc)] = weight.get(id(anc), 0) + len(text)
            by_id[id(anc)] = anc
    if not total:
        return None
    candidates = [by_id[k] for k, w in weight.items() if w >= COVER * total]
    return min(candidates, key=_text_len)
