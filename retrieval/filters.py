"""Search filters written in a query (``section:enforcement since:2024-10``) or given as options.

Text filters are case-insensitive substrings; dates compare at the precision both sides have
(applied by :class:`retrieval.search.Searcher`).
"""

from __future__ import annotations

import re

from .bulletin import is_iso_date, normalise_space
from .errors import ConfigurationError

FILTER_KEYS = ("section", "since", "until", "bulletin", "publisher")
_FILTER_RE = re.compile(r'(?<!\S)(section|since|until|bulletin|publisher):("([^"]*)"|\'([^\']*)\'|\S+)', re.IGNORECASE)


def parse_filters(query: str) -> tuple[str, dict[str, str]]:
    """Split ``key:value`` filters out of a query.

    Returns:
        (query without the filters, {key: value}); values may be quoted (``bulletin:"privacy news"``).

    Raises:
        ConfigurationError: a since/until value that is not YYYY, YYYY-MM or YYYY-MM-DD.
    """
    filters: dict[str, str] = {}

    def take(m: re.Match) -> str:
        value = m.group(3) if m.group(3) is not None else m.group(4) if m.group(4) is not None else m.group(2)
        filters[m.group(1).lower()] = value.strip()
        return " "

    rest = _FILTER_RE.sub(take, query)
    validate_filters(filters)
    return normalise_space(rest), filters


def validate_filters(filters: dict[str, str]) -> None:
    """Check filter keys and date values.

    Raises:
        ConfigurationError: an unknown key, or since/until not in YYYY, YYYY-MM or YYYY-MM-DD.
    """
    for key, value in filters.items():
        if key not in FILTER_KEYS:
            raise ConfigurationError(f"unknown filter {key!r}; known filters: {', '.join(FILTER_KEYS)}")
        if key in ("since", "until") and not is_iso_date(value):
            raise ConfigurationError(f"{key}: must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
