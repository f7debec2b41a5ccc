"""Search: a question → an :class:`Answer` (hits grouped by item, and a tier), from the generation in force.

- :mod:`.searcher` — the :class:`Searcher` (loads and follows the generation in force, searches, marks
  later developments);
- :mod:`.loaded` — one generation in memory (passage index, BM25, casing, instruments);
- :mod:`.ranking` — fusion of dense and BM25 scores, spans, near-duplicates, best sentences;
- :mod:`.filters` — ``section:``/``since:``/``until:``/``as_of:``/``bulletin:``/``publisher:``;
- :mod:`.answer` — the :class:`Hit` and :class:`Answer` types and the tiers;
- :mod:`.calibration` — the margin/coverage rule and its per-model ``calibration.toml``;
- :mod:`.evaluate` — hit@k, MRR and tier counts over question sets.
"""

from __future__ import annotations

from .answer import TIERS, Answer, Hit
from .searcher import MAX_TOP_K, Searcher

__all__ = ["MAX_TOP_K", "TIERS", "Answer", "Hit", "Searcher"]
