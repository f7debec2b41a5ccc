"""Parts of parsing that :mod:`retrieval.bulletin` delegates.

- :func:`split_list_entries` cuts a list paragraph into one piece per (sub-)bullet, so that a
  citation's ¶N points at the bullet that holds the sentence, not at a 4,000-character item.
"""

from __future__ import annotations

import re

#: A parent bullet at most this long is put in front of its sub-bullets as their sub-heading.
MAX_PARENT_HEADING_CHARS = 120

# A list entry inside a paragraph: a bullet at any indentation, or an indented "1." / "1)".
_ENTRY = re.compile(r"^([ \t]*)(?:[-*+•]|(?<=[ \t])\d{1,3}[.)])[ \t]+\S")
_WS = re.compile(r"\s+")


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
