"""What a timeline shows, for the command line and Slack alike: the instrument asked for, and its events as rows.

An instrument's events (:meth:`retrieval.instruments.timeline.InstrumentIndex.events_of`, oldest first) become
:class:`Row`\\ s: one sentence of one bulletin and the event kinds it states for one date, so a
sentence stating "guidance" and "draft" for the same day is one row (``guidance · draft``). A row is
placed by the date the sentence states, else by its bulletin's date, shown as ``(bulletin of 2024-08)``.

Pure functions over :mod:`retrieval.instruments.timeline` objects: no click, no Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .events import KINDS

#: Label of the pseudo-kind of an item about the instrument that states no event.
MENTIONED_LABEL = "mentioned"
#: At most this many names follow "Known instruments:" in a not-found message.
MAX_LISTED_NAMES = 40


def kind_label(kind: str) -> str:
    """The label shown for an event kind (``"in_force"`` → ``"in force"``; ``"mentioned"`` as is)."""
    return KINDS[kind][0] if kind in KINDS else MENTIONED_LABEL if kind == "mentioned" else kind


def placed(event) -> str:
    """An event's date as shown: ``2024-03-13`` (the sentence states it), ``(bulletin of 2024-08)``
    (none stated: the bulletin's places it) or ``(date unknown)``."""
    if event.date:
        return event.date
    return f"(bulletin of {event.citation.date})" if event.citation.date else "(date unknown)"


@dataclass(frozen=True)
class Row:
    """One line of a timeline: the events (≥ 1) that one bulletin sentence states for one date.

    Every event of a row has the same ``text``, ``citation`` and ``when``.
    """

    events: tuple

    @property
    def text(self) -> str:
        """The sentence, verbatim (``citation.char_start:char_end`` of the bulletin's source text)."""
        return self.events[0].text

    @property
    def citation(self):
        """The sentence's :class:`~retrieval.chunking.Citation`."""
        return self.events[0].citation

    @property
    def date(self) -> str | None:
        """The ISO date the sentence states, or None."""
        return self.events[0].date

    @property
    def when(self) -> str:
        """The date that places the row: the stated one, else the bulletin's ("" when neither is known)."""
        return self.events[0].when

    @property
    def labels(self) -> list[str]:
        """The event kinds' labels, in the order the events came, each once."""
        return list(dict.fromkeys(kind_label(e.kind) for e in self.events))

    def placed(self) -> str:
        """The row's date as shown: :func:`placed` of its events."""
        return placed(self.events[0])


def rows(events) -> list[Row]:
    """Group events into :class:`Row`\\ s, keeping the events' order (that of each row's first event).

    Args:
        events: :class:`~retrieval.instruments.timeline.InstrumentEvent`\\ s, normally oldest first.

    Returns:
        One row per (source file, sentence offsets, date that places it).
    """
    groups: dict[tuple, list] = {}
    for e in events:
        c = e.citation
        groups.setdefault((c.source_file, c.char_start, c.char_end, e.when), []).append(e)
    return [Row(tuple(g)) for g in groups.values()]


def _candidates(name: str) -> list[str]:
    """The name as written, without quotes or a trailing "?"/".", and without a leading "the"."""
    bare = name.strip().strip("“”\"'‘’").rstrip("?.!").strip()
    return list(dict.fromkeys([bare, re.sub(r"^(?:the|an?)\s+", "", bare, flags=re.IGNORECASE)]))


def find(index, name: str) -> str | None:
    """The key of the instrument ``name`` means (a name, alias, acronym, number or key; a leading
    "the" ignored) when at least one bulletin item is about it, else None.

    Args:
        index: an :class:`~retrieval.instruments.timeline.InstrumentIndex`.
        name: what the user wrote.
    """
    for candidate in _candidates(name):
        key = index.resolve(candidate)
        if key is not None and index.events_of(key):
            return key
    return None


def not_found(index, name: str, limit: int = MAX_LISTED_NAMES) -> str:
    """``No instrument called “X” in the bulletins. Nearest: A, B, C`` — or ``… Known instruments: …``
    (at most ``limit`` names, then "and N more") when no name is near, or ``No instrument is named
    in the bulletins.`` when none is known; for a law the table knows but no bulletin reports on,
    ``No bulletin reports on X yet.`` alone (another law's name is no "nearest" to it, PIPA to PIPL).
    Plain text: the caller escapes it for Slack."""
    shown = " ".join(name.split())
    shown = shown if len(shown) <= 100 else shown[:99] + "…"
    head = f"No instrument called “{shown}” in the bulletins."
    for candidate in _candidates(name):
        key = index.resolve(candidate)
        if key is not None:  # a law the alias table knows, that no bulletin reports on (yet): other laws
            return f"No bulletin reports on {index.table.name_of(key)} yet."  # are no "nearest" to it
    nearest: list[str] = []
    for candidate in _candidates(name):
        nearest += [n for n in index.suggest(candidate) if n not in nearest]
    if nearest:
        return f"{head} Nearest: {', '.join(nearest[:5])}"
    names = [i.name for i in index.known()]
    if not names:
        return f"{head} No instrument is named in the bulletins."
    more = f", and {len(names) - limit} more" if len(names) > limit else ""
    return f"{head} Known instruments: {', '.join(names[:limit])}{more}"


def listing(index) -> list[tuple]:
    """The instruments the bulletins are about, by name: ``[(Instrument, number of items about it)]``."""
    return [(inst, len(index.timeline(inst.key))) for inst in index.known()]


def summary(all_rows: list[Row]) -> str:
    """``7 events from 4 bulletins, oldest first`` for an instrument's rows."""
    bulletins = {r.citation.source_file for r in all_rows}
    n = len(all_rows)
    return (f"{n} event{'s' if n != 1 else ''} from {len(bulletins)} bulletin{'s' if len(bulletins) != 1 else ''}, "
            "oldest first")
