"""The date a document prints about itself: "Adopted on 17 December 2024", "in the version of
16.08.2021", "as of June 2025", "March 2021".

:func:`printed_date` looks through lines a caller chose because they speak about the document (a
cover page, a title block, running headers and footers, ``Date:``/``Published`` lines), never
through body paragraphs, whose dates are about what the document reports.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH = (r"(january|february|march|april|may|june|july|august|september|october|november|december"
          r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?")
_PATTERNS = (
    ("ymd", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("dmy", re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")),
    ("d_month_y", re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(\d{4})\b", re.IGNORECASE)),
    ("month_d_y", re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE)),
    ("month_y", re.compile(r"\b" + _MONTH + r",?\s+(\d{4})\b", re.IGNORECASE)),
)


def _month(word: str) -> int:
    """The month a name means; a KeyError for a lower-case word ("you may 2025" is no date)."""
    if not word[:1].isupper():
        raise KeyError(word)
    return _MONTHS[word.lower()]


def _iso(kind: str, groups: tuple[str, ...]) -> str | None:
    try:
        if kind == "ymd":
            y, m, d = int(groups[0]), int(groups[1]), int(groups[2])
        elif kind == "dmy":
            d, m, y = int(groups[0]), int(groups[1]), int(groups[2])
        elif kind == "d_month_y":
            d, m, y = int(groups[0]), _month(groups[1]), int(groups[2])
        elif kind == "month_d_y":
            m, d, y = _month(groups[0]), int(groups[1]), int(groups[2])
        else:
            m, y = _month(groups[0]), int(groups[1])
            return f"{y:04d}-{m:02d}" if 1900 <= y <= 2100 else None
        return date(y, m, d).isoformat() if 1900 <= y <= 2100 else None
    except (ValueError, KeyError):
        return None


def dates_in(text: str) -> list[tuple[int, str]]:
    """Every date written in ``text`` as (offset, ISO date): days as ``YYYY-MM-DD``, a month alone as ``YYYY-MM``."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            iso = _iso(kind, m.groups())
            if iso and not any(s <= m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), iso))
    return sorted((s, iso) for s, _e, iso in found)


def printed_date(lines: Iterable[str]) -> str | None:
    """The first date in ``lines`` (in the order given), or None. A day beats a month in the same line."""
    for line in lines:
        found = dates_in(line)
        if found:
            days = [iso for _, iso in found if len(iso) == 10]
            return days[0] if days else found[0][1]
    return None
