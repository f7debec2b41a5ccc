"""Instruments: the laws, regulations and frameworks the bulletins report on, and their timelines.

- :mod:`.names` — the alias table (``instruments.toml``), mentions and definitions in a text;
- :mod:`.events` — the dated events (draft, adopted, in force, deadline…) one sentence states;
- :mod:`.timeline` — :class:`InstrumentIndex` per generation (``instruments.json``): items and events by instrument;
- :mod:`.view` — what a timeline shows, for the command line and Slack alike (rows, names, "not found").
"""

from __future__ import annotations

from .names import Instrument, InstrumentTable
from .timeline import InstrumentEvent, InstrumentIndex, build_instruments

__all__ = ["Instrument", "InstrumentEvent", "InstrumentIndex", "InstrumentTable", "build_instruments"]
