"""Blog posts and long lists: the parts of parsing that :mod:`retrieval.bulletin` delegates.

- :func:`post_metadata` maps the front-matter keys blog engines write (``published_date``,
  ``canonical_url``, ``author`` …) onto the bulletin's metadata, and dates such as
  ``2025-03-04T09:00:00Z`` or ``March 4, 2025`` onto ISO.
- :func:`split_list_entries` cuts a list paragraph into one piece per (sub-)bullet, so that a
  citation's ¶N points at the bullet that holds the sentence, not at a 4,000-character item.
"""

from __future__ import annotations

import re
from datetime import datetime

#: Front-matter keys read for each metadata key, first present wins.
FRONT_MATTER_KEYS = {
    "title": ("title",),
    "date": ("date", "published_date", "publish_date", "published", "pubdate", "date_published"),
    "url": ("url", "canonical_url", "canonical", "permalink", "link"),
    "publisher": ("publisher", "site_name"),
    "provenance": ("provenance",),
}
#: A parent bullet at most this long is put in front of its sub-bullets as their sub-heading.
MAX_PARENT_HEADING_CHARS = 120

_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{1,2}:\d{2}.*)?$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m", "%Y", "%Y/%m/%d", "%d/%m/%Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y",
                 "%d %B %Y", "%d %b %Y", "%B %Y", "%b %Y")
_ISO_OUT = {"%Y-%m": "%Y-%m", "%Y": "%Y", "%B %Y": "%Y-%m", "%b %Y": "%Y-%m"}
# A list entry inside a paragraph: a bullet at any indentation, or an indented "1." / "1)".
_ENTRY = re.compile(r"^([ \t]*)(?:[-*+•]|(?<=[ \t])\d{1,3}[.)])[ \t]+\S")
_WS = re.compile(r"\s+")


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


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace into one space, and strip."""
    return _WS.sub(" ", text).strip()
