"""Search filters written in a query (``section:enforcement since:2024-10``) or given as options.

Text filters are case-insensitive substrings; dates compare at the precision both sides have
(applied by :meth:`retrieval.search.loaded.LoadedGeneration.allowed_rows`).

``as_of`` ("what did the bulletins say as of this date") keeps the bulletins dated up to that date,
like ``until``, and the answer says so. Besides ``as_of:2024-06`` it may be written in plain
English inside the question — "as of June 2024", "as at 30 June 2024", "as on June 30, 2024",
"as of 2024" — which :func:`take_as_of_phrase` finds and removes from the searched text.
"""

from __future__ import annotations

import re

from retrieval.errors import FilterError
from retrieval.text import is_iso_date, normalise_space

FILTER_KEYS = ("section", "since", "until", "as_of", "bulletin", "publisher")
#: The filters whose value is a date (YYYY, YYYY-MM or YYYY-MM-DD).
DATE_KEYS = ("since", "until", "as_of")
_FILTER_RE = re.compile(r'(?<!\S)(section|since|until|as_of|bulletin|publisher):("([^"]*)"|\'([^\']*)\'|\S+)',
                        re.IGNORECASE)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_MONTH_NUMBER = {**{m.lower(): i for i, m in enumerate(MONTHS, 1)}, **{m[:3].lower(): i for i, m in enumerate(MONTHS, 1)},
                 "sept": 9}
_MONTH = "(?:" + "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_AS_OF = r"(?<![\w-])as\s+(?:of|at|on)\s+"
_AS_OF_RE = re.compile(
    _AS_OF + r"(?:"
    rf"(?:the\s+)?(?P<d1>{_DAY})\s+(?:of\s+)?(?P<m1>{_MONTH}),?\s+(?P<y1>\d{{4}})"  # 30 June 2024, the 30th of June 2024
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>{_DAY}),?\s+(?P<y2>\d{{4}})"  # June 30, 2024
    rf"|(?P<m3>{_MONTH}),?\s+(?P<y3>\d{{4}})"  # June 2024
    r"|(?P<iso>\d{4}-\d{1,2}(?:-\d{1,2})?)"  # 2024-06, 2024-06-30
    r"|(?P<y4>(?:19|20)\d{2})"  # 2024 (not "as of 5000 staff")
    r")(?![\w-])", re.IGNORECASE)
#: "as of 30/06/2024": day and month cannot be told apart, so it is refused rather than guessed.
_AMBIGUOUS_RE = re.compile(_AS_OF + r"\d{1,4}[/.]\d{1,2}[/.]\d{2,4}\b", re.IGNORECASE)


def parse_filters(query: str) -> tuple[str, dict[str, str]]:
    """Split ``key:value`` filters, and an "as of" phrase, out of a query.

    Returns:
        (query without the filters, {key: value}); values may be quoted (``bulletin:"privacy news"``).
        An "as of June 2024" phrase gives ``as_of`` (see :func:`take_as_of_phrase`) unless
        ``as_of:`` is written too: the written filter wins (the phrase is removed all the same).

    Raises:
        FilterError: a since/until/as_of value that is not a real date written YYYY, YYYY-MM or
            YYYY-MM-DD, or an "as of" phrase that cannot be read (see :func:`take_as_of_phrase`).
    """
    filters: dict[str, str] = {}

    def take(m: re.Match) -> str:
        value = m.group(3) if m.group(3) is not None else m.group(4) if m.group(4) is not None else m.group(2)
        filters[m.group(1).lower()] = value.strip()
        return " "

    rest = _FILTER_RE.sub(take, query)
    rest, phrase = take_as_of_phrase(rest)
    if phrase and not filters.get("as_of"):
        filters["as_of"] = phrase
    validate_filters(filters)
    return normalise_space(rest), filters


def validate_filters(filters: dict[str, str]) -> None:
    """Check filter keys and date values.

    Raises:
        FilterError: an unknown key, or since/until/as_of not a real date in YYYY, YYYY-MM or YYYY-MM-DD.
    """
    for key, value in filters.items():
        if key not in FILTER_KEYS:
            raise FilterError(f"unknown filter {key!r}; known filters: {', '.join(FILTER_KEYS)}")
        if key in DATE_KEYS and not is_iso_date(value):
            raise FilterError(f"{key}: must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")


def take_as_of_phrase(text: str) -> tuple[str, str | None]:
    """Find an "as of DATE" phrase in a question and take it out.

    "as of", "as at" or "as on", then a date written ``June 2024`` / ``Jun. 2024``, ``30 June 2024``
    / ``30th of June 2024``, ``June 30, 2024``, ``2024-06`` / ``2024-06-30`` or ``2024`` (1900–2099),
    any case. "as of now", "as of today", "as often as" and "as of June" (no year) are not cut-offs
    and stay in the text.

    Returns:
        (the text without the phrase — with the comma that set it off, and no space left before
        the punctuation that followed it —, the ISO date at the precision written: "June 2024" →
        ``"2024-06"``, "30 June 2024" → ``"2024-06-30"``, "2024" → ``"2024"``); the text unchanged
        and None when there is no such phrase. The same date written twice counts once.

    Raises:
        FilterError: the date is not a real one ("as of 31 June 2024"), is written with slashes
            ("as of 30/06/2024": day and month are ambiguous), or two different dates are given.
    """
    ambiguous = _AMBIGUOUS_RE.search(text)
    if ambiguous:
        raise FilterError(f"“{ambiguous.group(0)}”: write the date as 30 June 2024 or 2024-06-30 "
                          "(day and month cannot be told apart)")
    found: list[str] = []
    while (m := _AS_OF_RE.search(text)) is not None:
        value = _iso(m)
        if not is_iso_date(value):
            raise FilterError(f"“{m.group(0)}” is not a real date")
        if found and value != found[0]:
            raise FilterError(f"two “as of” dates in one question ({readable_date(found[0])} and "
                              f"{readable_date(value)}); ask about one date at a time")
        found.append(value)
        text = _cut(text, m.start(), m.end())
    return text, (found[0] if found else None)


def readable_date(iso: str) -> str:
    """An ISO date as people write it: ``"2024"`` → "2024", ``"2024-06"`` → "June 2024",
    ``"2024-06-30"`` → "30 June 2024" (no leading zero). Anything else is returned unchanged."""
    if not is_iso_date(iso):
        return iso
    parts = iso.split("-")
    if len(parts) == 1:
        return iso
    month = MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


def _iso(m: re.Match) -> str:
    """The ISO date of an :data:`_AS_OF_RE` match, at the precision written (may not be a real date)."""
    g = m.groupdict()
    if g["iso"]:
        return "-".join(p.zfill(2) if i else p for i, p in enumerate(g["iso"].split("-")))
    if g["y4"]:
        return g["y4"]
    for d, mo, y in (("d1", "m1", "y1"), ("d2", "m2", "y2"), (None, "m3", "y3")):
        if g[mo]:
            month = _MONTH_NUMBER[g[mo].rstrip(".").lower()]
            day = f"-{int(g[d].rstrip('stndrh')):02d}" if d else ""  # "30th" -> -30
            return f"{g[y]}-{month:02d}{day}"
    raise AssertionError("unreachable: every alternative of _AS_OF_RE sets a group")


def _cut(text: str, start: int, end: int) -> str:
    """``text`` without ``text[start:end]``, the commas around it, and the space before following punctuation."""
    left, right = text[:start].rstrip(), text[end:].lstrip()
    if right.startswith(","):
        right = right[1:].lstrip()
    elif left.endswith(","):
        left = left[:-1].rstrip()
    if not left:
        return right.lstrip(",;: ")
    return left + ("" if not right or right[0] in "?.!;:," else " ") + right
