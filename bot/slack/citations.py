"""The one citation renderer: a passage's :class:`~retrieval.chunking.Citation` as one escaped mrkdwn line.

Answers (:func:`bot.slack.blocks.citation_line`) and the digest (:mod:`bot.digest.render`) both cite with
:func:`render_citation`; they differ only in what they add around the common parts (the hit's rank
and similarity for an answer; the source file and character range for a digest item).
"""

from __future__ import annotations

from retrieval.chunking import Citation

from .mrkdwn import escape, mrkdwn_link, shorten

#: Titles, sections and other citation parts are cut to this many characters each.
MAX_CITATION_PART = 200


def render_citation(c: Citation, *, rank: int | None = None, title: str | None = None, item_title: bool = True,
                    similarity: float | None = None, location: bool = False) -> str:
    """``<url|bulletin> · date · section · item N: title · p. 3 · ¶N`` (mrkdwn, every part escaped and shortened).

    ``p. N`` (the PDF page) appears only when the citation has a page.

    Args:
        c: the :class:`~retrieval.chunking.Citation`.
        rank: when given, the line starts with ``*[rank]*``.
        title: the bulletin title to show (default ``c.bulletin``).
        item_title: show the item's title after its number (or alone for an unnumbered item); the
            digest shows the title above the quote instead and passes False.
        similarity: when given, ``similarity 0.62`` ends the line.
        location: end with ``source_file, chars a–b``.
    """
    link = mrkdwn_link(c.url, shorten(c.bulletin if title is None else title, MAX_CITATION_PART))
    parts = [link if rank is None else f"*[{rank}]* {link}"]
    parts.append(escape(c.date) if c.date else "date unknown")
    if c.section:
        parts.append(escape(shorten(c.section, MAX_CITATION_PART)))
    if c.item_number is not None:
        named = c.item_title if item_title else None
        parts.append(f"item {c.item_number}" + (f": {escape(shorten(named, MAX_CITATION_PART))}" if named else ""))
    elif item_title and c.item_title:
        parts.append(escape(shorten(c.item_title, MAX_CITATION_PART)))
    if c.page is not None:
        parts.append(f"p. {c.page}")
    parts.append(f"¶{c.paragraph}")
    if similarity is not None:
        parts.append(f"similarity {similarity:.2f}")
    if location:
        parts.append(escape(f"{c.source_file}, chars {c.char_start}–{c.char_end}"))
    return " · ".join(parts)
