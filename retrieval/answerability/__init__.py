"""Answerability: what a question asks, and whether an item's text states it.

- :mod:`.verdicts` — :func:`analyse` (a :class:`Question`: its asked slots, entities, acronyms) and
  :func:`judge` (a :class:`Verdict` for an item's texts);
- :mod:`.slots` — the asked slots (amount, date, number, name…) and their fillers in a text;
- :mod:`.casing` — :class:`~retrieval.answerability.casing.CaseProfile`, built per index generation;
- :mod:`.gazetteer` — countries and their aliases.
"""

from __future__ import annotations

from .casing import CaseProfile
from .verdicts import Question, Verdict, analyse, judge

__all__ = ["CaseProfile", "Question", "Verdict", "analyse", "judge"]
