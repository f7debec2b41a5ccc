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
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from retrieval.chunking import Citation, Passage, sentence_spans
from retrieval.text import compare_dates

from .events import STAGE, actor, sentence_events
from .names import TABLE_FILE, Instrument, InstrumentTable

#: Format of instruments.json; a file of another version is rebuilt from the catalog.
FILE_VERSION = 1
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
        """Events reported by bulletins dated after the cited one, for the instruments its item is about,
        that take the instrument past every stage the item itself reports (adopted after a draft, in
        force, amended, repealed; or a deadline later than the item's): newest first. An item that
        reports no stage of the instrument (a fine under a law in force, guidance on it, a mention) is
        never marked: a later draft amendment does not make a fine's report out of date."""
        if not citation.date:
            return []
        item = item_key(citation)
        out: list[InstrumentEvent] = []
        for key in self.instruments_of(citation):
            own = [e for e in self._by_key.get(key, []) if item_key(e.citation) == item]
            stage = max((STAGE.get(e.kind, -1) for e in own), default=-1)
            own_deadline = max((e.when for e in own if e.kind == "deadline"), default="")
            if stage < 0 and not own_deadline:
                continue  # the item reports no stage of the law (a fine under it, guidance): nothing to supersede
            for e in self._by_key.get(key, []):
                if e.kind not in SUPERSEDING or not _later(e.citation.date, citation.date):
                    continue
                if (e.kind == "deadline" and e.when > own_deadline) or STAGE.get(e.kind, -1) > stage:
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

    An item is *about* an instrument its title or first sentence names, or that it names twice or
    more. Events come from sentences that name the instrument, and from the item's first sentence
    (its headline) when the item is about that instrument alone.

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
        sentences = [(p, *_trimmed(p.text, s, e)) for p in ps for s, e in sentence_spans(p.text)]
        if not sentences:
            continue
        found_here = [table.find_mentions(p.text[s:e]) for p, s, e in sentences]
        for ms in found_here:
            for m in ms:
                if m.key not in table.instruments:
                    unnamed.setdefault(m.key, []).append(m.surface)
        named = [[m.key for m in ms] for ms in found_here]
        title = ps[0].citation.item_title or ""
        in_title = [m.key for m in table.find_mentions(title)]
        counts: dict[str, int] = {}
        for keys in named:
            for k in keys:
                counts[k] = counts.get(k, 0) + 1
        chosen = tuple(dict.fromkeys([*in_title, *named[0], *(k for k, n in counts.items() if n >= 2)]))
        if not chosen:
            continue
        about[key] = chosen
        with_events: set[str] = set()
        for i, ((p, s, e), keys) in enumerate(zip(sentences, named)):
            targets = [k for k in chosen if k in keys] or (list(chosen) if i == 0 and len(chosen) == 1 else [])
            found = sentence_events(p.text[s:e], p.citation.date) if targets else []
            if i == 0 and found:
                s, e = _headline(p.text, s, e, found, p.citation.date)
            text = p.text[s:e]
            cite = _narrow(p.citation, s, e)
            for k in targets:
                for kind, when in found:
                    events.append(InstrumentEvent(k, kind, when, text, cite, actor(text)))
                    with_events.add(k)
        for k in chosen:  # an item about k that states no event about it is still on k's timeline
            if k not in with_events:
                p, s, e = next(((p, s, e) for (p, s, e), keys in zip(sentences, named) if k in keys), sentences[0])
                events.append(InstrumentEvent(k, "mentioned", None, p.text[s:e], _narrow(p.citation, s, e),
                                              actor(p.text[s:e])))
    for new_key, surfaces in unnamed.items():  # a name or number found only by pattern: known by what it was written as
        forms = list(dict.fromkeys(surfaces))
        table.add(Instrument(new_key, forms[0], tuple(forms[1:])))
    return InstrumentIndex(table, about, events)


_BOLD_HEADLINE = re.compile(r"\W{0,12}?\*\*(.+?)\*\*")


def _headline(text: str, start: int, end: int, found: list, date: str | None) -> tuple[int, int]:
    """The bold headline of an item's first sentence ("**EU AI Act enters into force** (https://…): …")
    when it states the same events by itself — a shorter verbatim quote; else the whole sentence."""
    m = _BOLD_HEADLINE.match(text, start, end)
    if m and sentence_events(m.group(1), date) == found:
        return m.start(1), m.end(1)
    return start, end


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A sentence span without a leading list marker or bold marks ("- **", "* ", "• ")."""
    while start < end and text[start] in "-•–·#> \t":
        start += 1
    return start, end


def _narrow(c: Citation, start: int, end: int) -> Citation:
    """The citation of passage-relative span [start, end)."""
    d = asdict(c)
    d["char_start"], d["char_end"] = c.char_start + start, c.char_start + end
    return Citation(**d)
