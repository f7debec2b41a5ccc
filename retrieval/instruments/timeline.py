"""Instruments across bulletins: which items are about which law, the events they report, in date order.

Built at ingest from a generation's passages (:func:`build_instruments`) and saved next to its
index as ``instruments.json``; :class:`InstrumentIndex` answers the timeline of an instrument
(oldest first), the later developments of a quoted item (a newer stage reported by a later
bulletin), and which instruments an item is about. Every event quotes one verbatim sentence with a
:class:`~retrieval.chunking.Citation` whose offsets index the bulletin's source text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from retrieval.chunking import Citation, Passage
from retrieval.text import compare_dates

from .attribution import read_item
from .events import STAGE, actor
from .names import TABLE_FILE, Instrument, InstrumentTable, slug

#: Format of instruments.json; a file of another version is rebuilt from the catalog.
FILE_VERSION = 2  # 2: issue 23's reading (events by item structure, Date: fields, later developments by event date)
FILE_NAME = "instruments.json"
#: The event kinds a later item must report to mark an earlier quote "later developments" (by stage).
SUPERSEDING = frozenset(STAGE) | {"deadline"}


def table_checksum() -> str:
    """sha256 hex of the alias table and the extraction code's version: a saved index made with
    another table is stale and is rebuilt from the catalog on load."""
    return hashlib.sha256(TABLE_FILE.read_bytes() + str(FILE_VERSION).encode()).hexdigest()


def item_key_of(source_file: str, section: str | None, item_number: int | None, paragraph: int) -> tuple:
    """(source_file, section, item_number) for a passage of a numbered item, else
    (source_file, section, None, paragraph): the key the search and the instruments group passages by."""
    return (source_file, section, item_number) if item_number is not None else (source_file, section, None, paragraph)


def item_key(c: Citation) -> tuple:
    """The item a citation belongs to (:func:`item_key_of` of its fields)."""
    return item_key_of(c.source_file, c.section, c.item_number, c.paragraph)


@dataclass(frozen=True)
class InstrumentEvent:
    """One dated event of an instrument, as one bulletin sentence states it.

    Attributes:
        key: the instrument's key.
        kind: a kind of :data:`retrieval.instruments.events.KINDS`, or ``"mentioned"`` for an item
            about the instrument that states no event.
        date: the ISO date the sentence states (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), or None.
        text: the sentence, verbatim (``citation.char_start:char_end`` of the source text).
        citation: where the sentence is: the bulletin's citation, narrowed to the sentence.
        actor: the body the sentence names as acting, or None.
    """

    key: str
    kind: str
    date: str | None
    text: str
    citation: Citation
    actor: str | None = None

    @property
    def when(self) -> str:
        """The date that places the event: the stated one, else the bulletin's ("" when neither is known)."""
        return self.date or self.citation.date or ""

    def to_dict(self) -> dict:
        """JSON-ready dict; ``citation`` as :meth:`Citation.to_dict`."""
        return {"key": self.key, "kind": self.kind, "date": self.date, "when": self.when, "text": self.text,
                "actor": self.actor, "citation": self.citation.to_dict()}


@dataclass(frozen=True)
class TimelineEntry:
    """One item about an instrument: its first citation and the events it states (at least one)."""

    item: tuple
    citation: Citation
    events: tuple[InstrumentEvent, ...]


class InstrumentIndex:
    """The instruments of one generation: table, per-item instruments, events.

    Args:
        table: the known instruments (alias table + corpus definitions).
        about: item key → keys of the instruments the item is about.
        events: every event, any order.
    """

    def __init__(self, table: InstrumentTable, about: dict[tuple, tuple[str, ...]], events: list[InstrumentEvent]):
        self.table = table
        self.about = about
        self.events = sorted(events, key=_order)
        self._by_key: dict[str, list[InstrumentEvent]] = {}
        for e in self.events:
            self._by_key.setdefault(e.key, []).append(e)

    def known(self) -> list[Instrument]:
        """The instruments at least one item is about, by name."""
        keys = {k for ks in self.about.values() for k in ks}
        return sorted((self.table.instruments[k] for k in keys if k in self.table.instruments), key=lambda i: i.name)

    def resolve(self, name: str) -> str | None:
        """The key for a name, alias, acronym or number (see :meth:`InstrumentTable.resolve`), or None."""
        return self.table.resolve(name)

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Up to n names of instruments the bulletins are about, nearest to ``name``."""
        mentioned = {i.name for i in self.known()}
        return [s for s in self.table.suggest(name, n * 4) if s in mentioned][:n]

    def timeline(self, key: str) -> list[TimelineEntry]:
        """Every item about instrument ``key``, oldest event first, each with its events in text order."""
        entries: dict[tuple, list[InstrumentEvent]] = {}
        for e in self._by_key.get(key, []):
            entries.setdefault(item_key(e.citation), []).append(e)
        out = [TimelineEntry(k, evs[0].citation, tuple(sorted(evs, key=lambda e: e.citation.char_start)))
               for k, evs in entries.items()]
        return sorted(out, key=lambda t: min(_order(e) for e in t.events))

    def events_of(self, key: str) -> list[InstrumentEvent]:
        """Every event of instrument ``key`` (``"mentioned"`` ones included), oldest first: by the
        date that places it (:attr:`InstrumentEvent.when`), then the bulletin's date, file and
        offset; events with no date at all come last. Empty for an unknown key."""
        return sorted(self._by_key.get(key, []), key=lambda e: (not e.when, *_order(e)))

    def instruments_of(self, citation: Citation) -> tuple[str, ...]:
        """Keys of the instruments the cited item is about (empty when none)."""
        return self.about.get(item_key(citation), ())

    def later_developments(self, citation: Citation) -> list[InstrumentEvent]:
        """Events that took an instrument the cited item is about past what the item reports: newest first.

        For each such instrument, the item's own stages (draft < resolution < adopted < in force <
        amended < repealed) and deadlines place it at the latest of their dates (the event's stated
        date, else its bulletin's). A later development is an event of the *same* instrument, in
        another item, placed after that date (at the precision both dates have), that is a higher
        stage, or a deadline later than the item's own deadline. An item that reports no stage or
        deadline of the instrument (a fine under a law in force, guidance on it, a mention) is never
        marked, and neither is an item or event whose date is unknown: a wrong "superseded" is worse
        than none. A regulator's code under an Act is an instrument of its own, so its draft is no
        stage of the Act.
        """
        item = item_key(citation)
        out: list[InstrumentEvent] = []
        for key in self.instruments_of(citation):
            own = [e for e in self._by_key.get(key, []) if item_key(e.citation) == item and e.kind in SUPERSEDING]
            own_when = max((e.when for e in own), default="")
            if not own_when:
                continue  # no stage or deadline of the law here (a fine under it, guidance): nothing to supersede
            stage = max((STAGE.get(e.kind, -1) for e in own), default=-1)
            own_deadline = max((e.when for e in own if e.kind == "deadline"), default="")
            for e in self._by_key.get(key, []):
                if e.kind not in SUPERSEDING or item_key(e.citation) == item or not _later(e.when, own_when):
                    continue
                if STAGE.get(e.kind, -1) > stage or (e.kind == "deadline" and _later(e.when, own_deadline)):
                    out.append(e)
        return sorted(out, key=_order, reverse=True)

    # -- persistence ----------------------------------------------------------------------
    def to_json(self) -> str:
        """The index as JSON (instruments, per-item instruments, events)."""
        keys = {k for ks in self.about.values() for k in ks} | {e.key for e in self.events}
        return json.dumps({
            "version": FILE_VERSION, "table_sha256": table_checksum(),
            "instruments": [self.table.instruments[k].to_dict() for k in sorted(keys) if k in self.table.instruments],
            "about": [[list(k), list(v)] for k, v in self.about.items()],
            "events": [e.to_dict() for e in self.events],
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "InstrumentIndex":
        """The inverse of :meth:`to_json`; raises ValueError on another version or a malformed file."""
        try:
            d = json.loads(text)
            if d.get("version") != FILE_VERSION:
                raise ValueError(f"instruments file version {d.get('version')!r}, expected {FILE_VERSION}")
            if d.get("table_sha256") != table_checksum():
                raise ValueError("made with another instrument table")
            table = InstrumentTable.load()
            for i in d["instruments"]:
                inst = Instrument.from_dict(i)
                if inst.key not in table.instruments or table.instruments[inst.key] != inst:
                    table.add(inst)
            about = {tuple(k): tuple(v) for k, v in d["about"]}
            events = [InstrumentEvent(e["key"], e["kind"], e["date"], e["text"], Citation(**e["citation"]), e.get("actor"))
                      for e in d["events"]]
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed instruments file: {exc}") from exc
        return cls(table, about, events)

    def save(self, path: Path) -> None:
        """Write :meth:`to_json` to path (UTF-8)."""
        path.write_text(self.to_json(), encoding="utf-8")


def _order(e: InstrumentEvent) -> tuple:
    return (e.when, e.citation.date or "", e.citation.source_file, e.citation.char_start)


def _later(a: str | None, b: str | None) -> bool:
    """True when date a is after date b at the precision both have (2024-08 is not after 2024)."""
    if not a or not b:
        return False
    return compare_dates(a, b) > 0


def build_instruments(passages: Iterable[Passage], table: InstrumentTable | None = None) -> InstrumentIndex:
    """Find, for each item, the instruments it is about and the events its sentences state.

    The rules (aboutness, which instrument an event belongs to, its date) are those of
    :func:`retrieval.instruments.attribution.read_item`. An instrument the table does not know
    (found by pattern, in the text or only in an item's title) is added to the table under the way
    the bulletins write it, so ``timeline`` finds it by that name.

    Args:
        passages: every passage of the generation (any order).
        table: the alias table; default :meth:`InstrumentTable.load`. Definitions found in the
            passages are added to it.
    """
    table = table or InstrumentTable.load()
    items: dict[tuple, list[Passage]] = {}
    for p in passages:
        items.setdefault(item_key(p.citation), []).append(p)
    for ps in items.values():
        ps.sort(key=lambda p: p.citation.char_start)
        for p in ps:
            table.learn_definitions(p.text)
    about: dict[tuple, tuple[str, ...]] = {}
    events: list[InstrumentEvent] = []
    unnamed: dict[str, list[str]] = {}
    for key, ps in items.items():
        reading = read_item(ps, table)
        for k, surfaces in reading.names.items():
            unnamed.setdefault(k, [])
            unnamed[k] += [n for n in surfaces if n not in unnamed[k]]
        if not reading.about:
            continue
        about[key] = reading.about
        for ev in reading.events:
            text = ev.passage.text[ev.start:ev.end]
            events.append(InstrumentEvent(ev.key, ev.kind, ev.date, text,
                                          _narrow(ev.passage.citation, ev.start, ev.end), actor(text)))
        with_events = {ev.key for ev in reading.events}
        for k in reading.about:  # an item about k that states no event about it is still on k's timeline
            if k not in with_events:
                p, s, e = reading.first_named.get(k) or (ps[0], 0, len(ps[0].text))
                events.append(InstrumentEvent(k, "mentioned", None, p.text[s:e], _narrow(p.citation, s, e),
                                              actor(p.text[s:e])))
    for new_key, surfaces in unnamed.items():  # a name or number found only by pattern: known by what it was written as
        if new_key not in table.instruments:  # shown by the name its key comes from ("… Online Design Code Act")
            forms = sorted(surfaces, key=lambda n: slug(n) != new_key and slug(f"{n} of Practice") != new_key)
            table.add(Instrument(new_key, forms[0], tuple(forms[1:])))
    return InstrumentIndex(table, about, events)


def _narrow(c: Citation, start: int, end: int) -> Citation:
    """The citation of passage-relative span [start, end)."""
    d = asdict(c)
    d["char_start"], d["char_end"] = c.char_start + start, c.char_start + end
    return Citation(**d)
