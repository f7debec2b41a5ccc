"""Search: a query → hits → an answer (the hits to quote, or an explicit "no confident answer").

:class:`Searcher` embeds the query, asks the :class:`~retrieval.index.PassageIndex` for the nearest
passages, drops FAISS padding and duplicate texts, and decides whether the best hit is trusted
(``score >= min_score``). It follows the data directory: when a new index generation is switched in
(``bulletin-bot ingest`` while a server runs), the next search loads it, and a generation that
fails its checks is never served (the one already loaded keeps serving, and the error is logged).

Scores shown are cosine similarities in [-1, 1] between the query and the passage (with its context).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .bulletin import normalise_space
from .chunking import Citation, Passage
from .encoder import Encoder
from .errors import ConfigurationError, IndexMismatchError, IndexNotFoundError, RetrievalError
from .index import PassageIndex, current_generation

log = logging.getLogger(__name__)

#: Cosine similarity below which the best hit is not trusted (all-MiniLM-L6-v2; see docs/retrieval.md).
DEFAULT_MIN_SCORE = 0.30
#: Most hits one query may ask for.
MAX_TOP_K = 50


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its score and 1-based rank.

    ``highlight`` is the (start, end) character span, within ``text``, of the sentence that best
    answers the query, or None when not computed.
    """

    passage: Passage
    score: float
    rank: int
    highlight: tuple[int, int] | None = None

    @property
    def text(self) -> str:
        """The verbatim passage text."""
        return self.passage.text

    @property
    def citation(self) -> Citation:
        """Where the passage comes from."""
        return self.passage.citation

    def to_dict(self) -> dict:
        """``{"score", "text", "citation": {...}}`` as printed by ``bulletin-bot ask --json``."""
        return {"score": round(self.score, 4), "text": self.text, "citation": self.citation.to_dict()}


@dataclass
class Answer:
    """The outcome of one search.

    Attributes:
        query: the query searched (Slack markup already removed).
        hits: best first. When ``answered`` is False they are the nearest passages, shown labelled
            as not answering the query.
        answered: False means "no confident answer".
        filters: the filters in force, as given.
    """

    query: str
    hits: list[Hit]
    answered: bool
    filters: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """``{"query", "answered", "hits": [...]}`` as printed by ``bulletin-bot ask --json``."""
        out = {"query": self.query, "answered": self.answered, "hits": [h.to_dict() for h in self.hits]}
        if self.filters:
            out["filters"] = self.filters
        return out


class Searcher:
    """Answers queries from the index generation in force in a data directory.

    Args:
        data_dir: the data directory (see :mod:`retrieval.index`).
        encoder: embeds queries; its model must be the index's.
        min_score: cosine similarity the best hit needs for the answer to count as answered.
        cache_size: identical queries whose vectors are kept (encoding costs ~10 ms; search far less).

    Raises (from :meth:`search`):
        IndexNotFoundError: nothing indexed yet.
        IndexMismatchError: the generation in force fails its checks and none was loaded before.
        ConfigurationError: a bad top_k.
    """

    def __init__(self, data_dir: str | Path, encoder: Encoder, min_score: float = DEFAULT_MIN_SCORE,
                 cache_size: int = 256):
        self.data_dir = Path(data_dir)
        self.encoder = encoder
        self.min_score = min_score
        self._index: PassageIndex | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    # -- the index in force ---------------------------------------------------------------
    @property
    def index(self) -> PassageIndex:
        """The loaded generation, reloaded when ``CURRENT`` names a newer one."""
        name = current_generation(self.data_dir)
        with self._lock:
            if self._index is not None and (name is None or name == self._index.generation):
                return self._index
            if name is None:
                raise IndexNotFoundError(str(self.data_dir))
            try:
                fresh = PassageIndex.load(self.data_dir, model=self.encoder.name, generation=name)
            except IndexMismatchError:
                if self._index is None:
                    raise
                log.exception("index generation %s failed its checks; still serving %s", name, self._index.generation)
                return self._index
            old, self._index = self._index, fresh
            if old is not None:
                log.info("switched from index generation %s to %s", old.generation, fresh.generation)
            return fresh

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector: float32 array of shape (1, dimension), L2-normalised (cached)."""
        key = normalise_space(query)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        vec = self.encoder.encode([key])
        with self._lock:
            self._cache[key] = vec
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    # -- search -----------------------------------------------------------------------------
    def search(self, query: str, top_k: int = 5) -> Answer:
        """Find the passages that best answer query.

        Args:
            query: plain text.
            top_k: hits wanted, 1..MAX_TOP_K; fewer come back when fewer passages exist.

        Returns:
            An :class:`Answer`; ``answered`` is False when nothing reaches ``min_score`` (or the
            query is empty), its hits then being the nearest passages.
        """
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise ConfigurationError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k!r}")
        index = self.index
        query = normalise_space(query)
        if not query:
            return Answer(query, [], answered=False)
        vec = self.embed_query(query)
        pool = index.search(vec, min(len(index), top_k * 3))[0] if len(index) else []
        passages = index.passages(pid for pid, _ in pool)
        hits: list[Hit] = []
        seen_texts: set[str] = set()
        for pid, score in pool:
            passage = passages.get(pid)
            if passage is None:  # cannot happen with a checked generation; never cite a wrong paragraph
                raise RetrievalError(f"passage {pid} is in FAISS but not in the store")
            key = normalise_space(passage.text).lower()
            if key in seen_texts:
                continue
            seen_texts.add(key)
            hits.append(Hit(passage, score, len(hits) + 1))
            if len(hits) == top_k:
                break
        answered = bool(hits) and hits[0].score >= self.min_score
        return Answer(query, hits, answered)
