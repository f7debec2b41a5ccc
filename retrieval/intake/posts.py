"""Blog posts and long lists: the parts of parsing that :mod:`retrieval.intake.parser` delegates.

- :func:`post_metadata` maps the front-matter keys blog engines write (``published_date``,
  ``canonical_url``, ``author`` …) onto the bulletin's metadata, and dates such as
  ``2025-03-04T09:00:00Z`` or ``March 4, 2025`` onto ISO.
- :func:`split_list_entries` cuts a list paragraph into one piece per (sub-)bullet, so that a
  citation's ¶N points at the bullet that holds the sentence, not at a 4,000-character item.
- :func:`drop_previews` removes a truncated preview paragraph ("The Commission has published…")
  that repeats the beginning of a later paragraph.
- :func:`group_itemless_post` gives a post without any item one item per sub-heading (or one item
  for the whole post), so that search groups its paragraphs and citations name an item.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from retrieval.text import normalise_space

from .structure import Item, Section

#: Front-matter keys read for each metadata key, first present wins.
FRONT_MATTER_KEYS = {
    "title": ("title",),
    "date": ("date", "published_date", "publish_date", "published", "pubdate", "date_published"),
    "url": ("url", "canonical_url", "canonical", "permalink", "link"),
    "publisher": ("publisher", "site_name"),
    "provenance": ("provenance",),
}
#: A preview shorter than this (after its ellipsis is removed) is never taken for a truncation.
MIN_PREVIEW_CHARS = 30
#: A parent bullet at most this long is put in front of its sub-bullets as their sub-heading.
MAX_PARENT_HEADING_CHARS = 120

_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{1,2}:\d{2}.*)?$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m", "%Y", "%Y/%m/%d", "%d/%m/%Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y",
                 "%d %B %Y", "%d %b %Y", "%B %Y", "%b %Y")
_ISO_OUT = {"%Y-%m": "%Y-%m", "%Y": "%Y", "%B %Y": "%Y-%m", "%b %Y": "%Y-%m"}
# A list entry inside a paragraph: a bullet at any indentation, or an indented "1." / "1)".
_ENTRY = re.compile(r"^([ \t]*)(?:[-*+•]|(?<=[ \t])\d{1,3}[.)])[ \t]+\S")
_ELLIPSIS = re.compile(r"\s*(?:\.{3}|…)$")


def normalise_post_date(value: str) -> str | None:
    """An ISO ``YYYY``/``YYYY-MM``/``YYYY-MM-DD`` for a front-matter date, or None when it is not one.

    Accepts ISO dates and date-times (``2025-03-04T09:00:00+01:00``: the date as written, no time
    zone conversion), ``2025/03/04``, ``04/03/2025`` (day first), ``March 4, 2025``, ``4 March 2025``
    and ``March 2025``.
    """
    value = value.strip().strip("\"'").strip()
    m = _ISO_PREFIX.match(value)
    if m:
        value = m.group(1)
    value = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", value)
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.strftime(_ISO_OUT.get(fmt, "%Y-%m-%d"))
    return None


def post_metadata(front: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """Map front matter onto metadata keys, and the author (the byline).

    Args:
        front: front-matter ``key: value`` pairs, keys lower-cased.

    Returns:
        (metadata, author): metadata holds ``title``, ``date``, ``url``, ``publisher`` and
        ``provenance`` where the front matter gives one (see :data:`FRONT_MATTER_KEYS`); a date is
        normalised by :func:`normalise_post_date` and kept as written when it cannot be (the
        caller's validation then reports it); of several URL keys an absolute ``http(s)`` one wins.
        ``author`` is None when the front matter names none.
    """
    meta: dict[str, str] = {}
    for key, names in FRONT_MATTER_KEYS.items():
        values = [front[n] for n in names if front.get(n, "").strip()]
        if not values:
            continue
        if key == "url":
            values = [v for v in values if v.startswith(("http://", "https://"))] or values
        meta[key] = values[0]
    if "date" in meta:
        meta["date"] = normalise_post_date(meta["date"]) or meta["date"]
    author = front.get("author", "").strip() or None
    return meta, author


def split_list_entries(text: str, start: int, line: int, keep_first_heading: bool
                       ) -> list[tuple[str, int, int, int, str | None]]:
    """Cut a paragraph at each line that starts a (nested) list entry.

    Args:
        text: the paragraph, a verbatim slice of the source starting at offset ``start`` on ``line``.
        keep_first_heading: whether the first piece may serve as its entries' sub-heading (a
            lead-in such as "Issues:"; not for a top-level bullet, whose title is the item's).

    Returns:
        (text, start, end, line, parent) pieces in order, each verbatim (``source[start:end] ==
        text``, surrounding whitespace excluded), the first being whatever precedes the first
        entry; ``parent`` is the text of the nearest less-indented entry when that is at most
        :data:`MAX_PARENT_HEADING_CHARS` long, else None. ``[(text, start, start + len(text), line,
        None)]`` when the paragraph holds no list entry after its first line.
    """
    cuts: list[tuple[int, int, int]] = []  # (offset in text, indentation width, line index)
    pos = 0
    for i, raw in enumerate(text.split("\n")):
        m = _ENTRY.match(raw)
        if i > 0 and m:
            cuts.append((pos + len(m.group(1)), len(m.group(1).expandtabs(4)), i))
        pos += len(raw) + 1
    if not cuts:
        return [(text, start, start + len(text), line, None)]
    bounds = [(0, -1, 0)] + cuts
    pieces = []
    stack: list[tuple[int, str | None]] = []  # (indentation, heading text) of open ancestors
    for n, (s, indent, li) in enumerate(bounds):
        e = bounds[n + 1][0] if n + 1 < len(bounds) else len(text)
        piece = text[s:e].rstrip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else None
        pieces.append((piece, start + s, start + s + len(piece), line + li, parent))
        heading = _entry_heading(piece) if (n > 0 or keep_first_heading) else None
        stack.append((indent, heading))
    return pieces


def _entry_heading(piece: str) -> str | None:
    """The entry's text without its marker and emphasis, when short enough to head its sub-entries."""
    body = normalise_space(re.sub(r"^(?:[-*+•]|\d{1,3}[.)])\s+", "", piece)).replace("**", "").strip("*_ ")
    return body if body and len(body) <= MAX_PARENT_HEADING_CHARS else None


def drop_previews(sections: list[Section]) -> int:
    """Remove preview paragraphs: ending in "..." or "…", they repeat the start of a later paragraph.

    A paragraph is a preview when, without its trailing ellipsis and whitespace-normalised, it is
    at least :data:`MIN_PREVIEW_CHARS` long and a proper prefix of a later paragraph (also
    normalised). Paragraphs left in an item or section are renumbered 1, 2, …; an item left with
    no paragraph is removed. Mutates ``sections``; returns how many paragraphs were dropped.
    """
    owners = list(sections) + [it for s in sections for it in s.items]
    ordered = sorted(((p.char_start, normalise_space(p.text), p) for o in owners for p in o.paragraphs),
                     key=lambda t: t[0])
    previews = set()
    for i, (_, norm, p) in enumerate(ordered):
        if not _ELLIPSIS.search(p.text):
            continue
        stem = normalise_space(_ELLIPSIS.sub("", p.text))
        if len(stem) < MIN_PREVIEW_CHARS:
            continue
        if any(later.startswith(stem) and len(later) > len(stem) for _, later, _ in ordered[i + 1:]):
            previews.add(id(p))
    if not previews:
        return 0
    for owner in owners:
        kept = [p for p in owner.paragraphs if id(p) not in previews]
        if len(kept) != len(owner.paragraphs):
            owner.paragraphs = [replace(p, number=n) for n, p in enumerate(kept, start=1)]
    for s in sections:
        s.items = [it for it in s.items if it.paragraphs]
    return len(previews)


def group_itemless_post(sections: list[Section], text: str) -> list[Section]:
    """A post with no item anywhere → one section holding one item per sub-heading.

    A bulletin counts as *item-less* when none of its sections has an item (no numbered entry, no
    top-level bullet). Each section with paragraphs then becomes an item, numbered 1, 2, … in
    reading order and titled with the section's heading (None for the text before the first
    heading, or for the whole post when it has no sub-heading); its paragraphs keep their numbers,
    text and offsets; an item's ``char_start`` is the offset of its heading's line in ``text`` (of
    its first paragraph when untitled). Returns ``sections`` unchanged when some section has an item (a digest,
    whose paragraphs outside items stay as they are).
    """
    if any(s.items for s in sections):
        return sections
    with_text = [s for s in sections if s.paragraphs]
    if not with_text:
        return sections
    post = Section(title=None, line=with_text[0].line)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for s in with_text:
        runs = _label_runs(s.paragraphs)
        if len(runs) > 1:  # a digest's "Label: text" news under one heading: one item per news
            for label, paragraphs in runs:
                first = paragraphs[0]
                renumbered = [replace(p, number=k) for k, p in enumerate(paragraphs, start=1)]
                post.items.append(Item(number=len(post.items) + 1, title=label or s.title, line=first.line,
                                       paragraphs=renumbered, char_start=first.char_start))
            continue
        first = s.paragraphs[0]
        line = s.line if s.title is not None else first.line
        start = line_starts[line - 1] if s.title is not None and line <= len(line_starts) else first.char_start
        post.items.append(Item(number=len(post.items) + 1, title=s.title, line=line, paragraphs=list(s.paragraphs),
                               char_start=start))
    return [post]


#: A news paragraph led by a short label: "AI literacy: The European Commission has published…".
_LABEL = re.compile(r"^([A-Z][\w’'&/.() -]{1,60}?):\s+(?=[A-Z“\"])")


def _label_runs(paragraphs: list) -> list[tuple[str | None, list]]:
    """Paragraphs cut before each one led by a label (at least two labels, each of at most 6 words).

    Returns (label, paragraphs) runs in reading order; the paragraphs before the first label form a
    run labelled None. One run when fewer than two paragraphs carry a label.
    """
    labels = []
    for p in paragraphs:
        m = _LABEL.match(p.text)
        labels.append(m.group(1) if m and len(m.group(1).split()) <= 6 and "://" not in p.text[:m.end()] else None)
    if sum(1 for x in labels if x) < 2:
        return [(None, list(paragraphs))]
    runs: list[tuple[str | None, list]] = []
    for p, label in zip(paragraphs, labels):
        if label or not runs:
            runs.append((label, [p]))
        else:
            runs[-1][1].append(p)
    return runs
