"""Instruments: the laws, regulations and frameworks the bulletins report on, and their timelines.

- :mod:`.names` — the alias table (``instruments.toml``), mentions and definitions in a text;
- :mod:`.patterns` — the shapes of a name the table lacks: generic names, official numbers, bill numbers;
- :mod:`.events` — the dated events (draft, adopted, in force, deadline…) one sentence states;
- :mod:`.attribution` — one item read whole: what it is about, and which instrument each event belongs to;
- :mod:`.referents` — the instrument a trigger or a sentence refers to (clauses, "under X", anaphora);
- :mod:`.timeline` — :class:`InstrumentIndex` per generation (``instruments.json``): items and events by instrument;
- :mod:`.view` — what a timeline shows, for the command line and Slack alike (rows, names, "not found").
"""

from __future__ import annotations

from .names import Instrument, InstrumentTable
from .timeline import InstrumentEvent, InstrumentIndex, build_instruments

__all__ = ["Instrument", "InstrumentEvent", "InstrumentIndex", "InstrumentTable", "build_instruments"]
