"""A bulletin's date and where it came from: sidecar > printed in the document > the file's metadata.

:data:`DATE_SOURCES` names the sources (the ``date_source`` of ``ingest --json``):

- ``sidecar``: the ``<stem>.meta.toml`` beside the file (or metadata given by the caller);
- ``document``: the document states it: front matter, a date printed in its first lines
  (:func:`printed_date`: a ``Date:``/``Published``/``Issued``/``as of`` line, a heading or a short
  line that is a date), an e-mail's Date header, a PDF's printed first page;
- ``metadata``: only the file's metadata gave one: an HTML ``<meta>`` date, a PDF's CreationDate,
  a date in the file name (``2018-07-10-update.md``), which may be when the file was made rather
  than the bulletin's date (ingest warns);
- ``none``: no date is known.

This module imports nothing of ``retrieval`` but :mod:`retrieval.text`.
"""

from __future__ import annotations

import re
from datetime import date

from retrieval.text import is_iso_date

DATE_SOURCES = ("sidecar", "document", "metadata", "none")
#: How far into the body a printed date is looked for: lines, and characters.
MAX_LINES = 15
MAX_CHARS = 2500
#: A line at most this long that is mostly a date ("4 February 2025 • 3 minute read") is the date line.
MAX_DATE_LINE = 60

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|" \
         r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_PATTERNS = (
    ("ymd", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")),
    ("dmy", re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(\d{4})\b", re.IGNORECASE)),
    ("mdy", re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE)),
    ("dotted", re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")),
    ("slashed", re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")),
    ("my", re.compile(r"\b" + _MONTH + r"\s+(\d{4})\b", re.IGNORECASE)),
)
_LABEL = re.compile(r"^[\W_]*(?:date[ds]?|published(?:\s+on)?|publication\s+date|posted(?:\s+on)?|issued(?:\s+on)?|"
                    r"released(?:\s+on)?|adopted(?:\s+on)?|as\s+of|last\s+updated|updated(?:\s+on)?|"
                    r"in\s+the\s+version\s+of)\b", re.IGNORECASE)
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")


def _iso(y: int, m: int, d: int | None) -> str | None:
    try:
        value = date(y, m, d or 1)
    except ValueError:
        return None
    return value.isoformat() if d else value.isoformat()[:7]


def find_date(text: str) -> tuple[str, int, int] | None:
    """The first date written in text, as (ISO date, start, end of its mention), or None.

    Read: ``2025-02-04``, ``4 February 2025``, ``February 4, 2025``, ``Feb. 4 2025``, ``16.08.2021``
    (day first), ``31/10/2023`` or ``10/31/2023`` only when one side is over 12 (else it is ambiguous
    and not read), ``March 2021`` (a month).
    """
    found: list[tuple[int, int, str]] = []  # (start, -length, ISO date)
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            iso = _read(kind, m.groups())
            if iso:
                found.append((m.start(), -(m.end() - m.start()), iso))
    if not found:
        return None
    start, neg_len, iso = min(found)
    return iso, start, start - neg_len


def _read(kind: str, g: tuple) -> str | None:
    if kind == "ymd":
        return _iso(int(g[0]), int(g[1]), int(g[2]))
    if kind == "dmy":
        return _iso(int(g[2]), _MONTHS[g[1].lower()], int(g[0]))
    if kind == "mdy":
        return _iso(int(g[2]), _MONTHS[g[0].lower()], int(g[1]))
    if kind == "dotted":
        return _iso(int(g[2]), int(g[1]), int(g[0]))
    if kind == "slashed":
        a, b = int(g[0]), int(g[1])
        if (a > 12) == (b > 12):
            return None  # 03/04/2025: whether the day or the month comes first cannot be told
        return _iso(int(g[2]), b, a) if a > 12 else _iso(int(g[2]), a, b)
    return _iso(int(g[1]), _MONTHS[g[0].lower()], None)


def printed_date(lines: list[str]) -> str | None:
    """The bulletin's date as printed in its first lines (title, headings, a date line), or None.

    Args:
        lines: the first lines of the body, in order (markdown heading marks may be kept).

    A line that starts with a label (``Date:``, ``Published``, ``Issued on``, ``as of``, ``in the
    version of``…) wins; else the first heading or short line that is mostly a date.
    """
    lines = [ln.strip() for ln in lines if ln.strip()][:MAX_LINES]
    budget, kept = MAX_CHARS, []
    for ln in lines:
        if budget <= 0:
            break
        kept.append(ln)
        budget -= len(ln)
    for ln in kept:
        if _LABEL.match(ln) and (found := find_date(ln[:200])):
            return found[0]
    for ln in kept:
        found = find_date(ln) if len(ln) <= 200 else None
        if not found:
            continue
        heading = ln.startswith("#")
        rest = len(ln) - (found[2] - found[1])
        if heading or (len(ln) <= MAX_DATE_LINE and rest <= max(20, found[2] - found[1])):
            return found[0]
    return None


def file_name_date(name: str) -> str | None:
    """A ``YYYY-MM-DD`` or ``YYYY-MM`` date in a file name (``2018-07-10-update.md``), or None."""
    for m in _NAME_DATE.finditer(name):
        y, mo, d = m.group(1), m.group(2), m.group(3)
        iso = f"{y}-{mo}-{d}" if d else f"{y}-{mo}"
        if is_iso_date(iso) and 1900 <= int(y) <= 2100:
            return iso
    return None
