"""Search: a query → hits → an answer (the hits to quote, or an explicit "no confident answer").

The pipeline (figures measured with ``bulletin-bot eval``; method and numbers in docs/retrieval.md):

1. **Filters** written in the query (``section:enforcement since:2024-10 until:2025-01 as_of:2024-06
   bulletin:NAME publisher:NAME``, or "as of June 2024" in words) or given as arguments restrict
   the passages searched; the ``as_of`` cut-off is shown back with the answer.
2. **Candidates**: the dense top-N (FAISS, cosine) and the BM25 top-N (:mod:`retrieval.index.lexical`).
3. **Fusion**: ``score = cosine + LEXICAL_WEIGHT * bm25 / max_bm25`` (BM25 normalised by the
   query's best BM25 score, so the lexical part lies in [0, LEXICAL_WEIGHT]). On the dev set this
   beat reciprocal rank fusion (hit@1 0.904 vs 0.827 on the same passages).
4. **Items**: passages are grouped by item (or by paragraph outside items); one hit per item. A hit
   quotes the contiguous verbatim span of its item's passages that score within ``SPAN_MARGIN`` of
   the item's best passage (at most ``SPAN_MAX_CHARS``), so the answer is not lost when the
   neighbouring paragraph of the same item holds it.
5. **Near-duplicates** (same normalised text, or vectors with cosine > 0.97 — one news item
   reported by two bulletins) are collapsed into the first.
6. **Best sentence**: inside each quote, the sentence sharing the most (IDF-weighted) query terms is marked.
7. **Answerability**: each shown item is judged on whether it states what the question asks
   (:mod:`retrieval.answerability.verdicts`: the asked slot filled, the question's named things present);
   the quote is widened to the passage that states it and that sentence is highlighted.
8. **Tier** (:func:`retrieval.search.tier.settle`, the one place that sets it and the per-hit labels): an
   answering lower item leads; "answers" when the (new) first item's verdict passes and
   :class:`Calibration` (per model: fused-score margin between the first two items and the share of
   the query's terms the first item contains) is confident — or, when a fitted verdict is kept for the model
   (:mod:`retrieval.search.verdict_model`; none is shipped: it did not beat these rules), when it says the
   item answers; "nothing" below the calibration's
   off-topic cosine floor; "related" otherwise, no hit then labelled as answering.

Scores on hits are the fused scores above (cosine similarity plus the lexical part); ``Hit.cosine``
is the plain cosine similarity in [-1, 1].

:class:`Searcher` follows the data directory: when a new index generation is switched in
(``bulletin-bot ingest`` while a server runs), the next search loads it; a generation that fails
its checks is never served (the one already loaded keeps serving, and the error is logged).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

from retrieval.answerability.verdicts import LINKS_ONLY, _vocabulary, analyse, links_only, mentions
from retrieval.encoders.factory import Encoder
from retrieval.errors import ConfigurationError, IndexMismatchError, IndexNotFoundError
from retrieval.index.generations import current_generation
from retrieval.index.passages import DEFAULT_SEARCH_THREADS, PassageIndex, set_search_threads
from retrieval.instruments.timeline import InstrumentIndex
from retrieval.text import compare_dates, normalise_space

from .answer import Answer, Hit
from .calibration import Calibration, calibration_for
from .features import judged_features
from .filters import parse_filters, validate_filters
from .loaded import LoadedGeneration
from .ranking import judge_item, make_hits, rank_items, signals
from .tier import PROMOTE_GAP, settle, violations
from .verdict_model import MODEL_DEPTH, VerdictModel, model_for

log = logging.getLogger(__name__)

#: Most hits one query may ask for.
MAX_TOP_K = 50
#: Weight of the normalised BM25 score in the fused score.
LEXICAL_WEIGHT = 0.3



#: Key of :attr:`Searcher._failures` for an unreadable ``CURRENT`` (never a generation name).
_CURRENT_KEY = "/CURRENT"


#: At most this many later developments are attached to one hit (newest first).
MAX_LATER = 3


def mark_later(loaded: LoadedGeneration, hits: list[Hit], as_of: str | None = None) -> list[Hit]:
    """The hits, each with the later developments of the instruments its item is about (at most
    MAX_LATER, newest first). Under an ``as_of`` cut-off only bulletins dated up to it count, so a
    question "as of June 2024" is not marked with what came after."""
    try:
        instruments = loaded.instruments
    except Exception:  # the marks are extra: an answer is never lost to them
        log.exception("index generation %s: instruments unavailable; answering without later developments",
                      loaded.index.generation)
        return hits
    out = []
    for h in hits:
        later = instruments.later_developments(h.citation)
        if as_of:
            later = [e for e in later if e.citation.date and compare_dates(e.citation.date, as_of) <= 0]
        out.append(dataclasses.replace(h, later=tuple(later[:MAX_LATER])) if later else h)
    return out


class Searcher:
    """Answers queries from the index generation in force in a data directory.

    Args:
        data_dir: the data directory (see :mod:`retrieval.index.passages`).
        encoder: embeds queries; its model must be the index's.
        calibration: the "no confident answer" rule; default: the one kept for the encoder's model
            (:func:`retrieval.search.calibration.calibration_for`).
        cache_size: identical queries whose vectors are kept (encoding costs ~10 ms; search far less).
        lexical_weight: weight of BM25 in the fused score; 0 gives dense-only search (no BM25 built).
        verdict_model: the fitted verdict (:mod:`retrieval.search.verdict_model`); True (default): the one kept
            for the encoder's model, when there is one; None or False: the rule verdict and the calibration.
        collect_features: compute the fitted verdict's features (:attr:`Answer.features`) even with no model
            (for ``eval --calibrate``; one encoder call per search on the first quotes' sentences).
        faiss_threads: faiss' OpenMP threads (process-wide, set here: :func:`~retrieval.index.passages.set_search_threads`);
            1 serves one query at a time fastest on small machines.

    Raises (from :meth:`search`):
        IndexNotFoundError: nothing indexed yet.
        IndexMismatchError: the generation in force fails its checks and none was loaded before.
        ConfigurationError: a bad top_k or filter.
    """

    def __init__(self, data_dir: str | Path, encoder: Encoder, calibration: Calibration | None = None,
                 cache_size: int = 256, lexical_weight: float = LEXICAL_WEIGHT,
                 faiss_threads: int = DEFAULT_SEARCH_THREADS, verdict_model: VerdictModel | None | bool = True,
                 collect_features: bool = False):
        if lexical_weight < 0:
            raise ConfigurationError(f"lexical_weight must be >= 0, got {lexical_weight}")
        set_search_threads(faiss_threads)
        self.lexical_weight = lexical_weight
        self.data_dir = Path(data_dir)
        self.encoder = encoder
        self.calibration = calibration or calibration_for(encoder.name)
        self.verdict_model = model_for(encoder.name) if verdict_model is True else (verdict_model or None)
        self.collect_features = collect_features
        self._loaded: LoadedGeneration | None = None
        self._failures: dict[str, str] = {}  # generation name (or CURRENT) -> why it failed to load: not retried
        self._lock = threading.Lock()  # guards the query-vector cache
        self._load_lock = threading.Lock()  # one generation load at a time
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    # -- the index in force ---------------------------------------------------------------
    def _current(self) -> LoadedGeneration:
        """The generation in force, loading a newer one when ``CURRENT`` moved.

        While one thread loads a new generation (BM25 is built then: seconds at 100k passages),
        the others keep answering from the generation already loaded. A generation whose load fails
        (its checks, or any other error such as OSError) is not retried until ``CURRENT`` names
        another one; the failure is logged once (an unreadable ``CURRENT``: once with its traceback,
        then one short line per question).
        """
        loaded = self._loaded
        try:
            name = current_generation(self.data_dir)
        except IndexMismatchError as exc:
            if loaded is None:
                raise
            if self._failures.get(_CURRENT_KEY) == str(exc):
                log.warning("CURRENT is still unreadable; still serving %s", loaded.index.generation)
            else:
                self._failures[_CURRENT_KEY] = str(exc)
                log.exception("CURRENT is unreadable; still serving %s", loaded.index.generation)
            return loaded
        self._failures.pop(_CURRENT_KEY, None)
        if loaded is not None and (name is None or name == loaded.index.generation or name in self._failures):
            return loaded
        if name is None:
            raise IndexNotFoundError(str(self.data_dir))
        if name in self._failures:  # nothing loaded, and the generation in force failed before: not again
            raise IndexMismatchError(self._failures[name])
        if loaded is not None and not self._load_lock.acquire(blocking=False):
            return loaded  # another thread is loading the new generation
        if loaded is None:
            self._load_lock.acquire()
        try:
            loaded = self._loaded
            if loaded is not None and (name == loaded.index.generation or name in self._failures):
                return loaded
            if name in self._failures:
                raise IndexMismatchError(self._failures[name])
            try:
                fresh = LoadedGeneration(PassageIndex.load(self.data_dir, model=self.encoder.name, generation=name),
                                lexical=self.lexical_weight > 0)
            except Exception as exc:
                checks = isinstance(exc, IndexMismatchError)
                self._failures[name] = str(exc) if checks else (f"index generation {name} could not be loaded "
                                                                f"({type(exc).__name__}: {exc})")
                if loaded is None:
                    if not checks:
                        log.exception("index generation %s could not be loaded", name)
                        raise IndexMismatchError(self._failures[name]) from None
                    raise
                log.exception("index generation %s could not be loaded; still serving %s", name, loaded.index.generation)
                return loaded
            self._loaded = fresh
            if loaded is not None:
                log.info("switched from index generation %s to %s", loaded.index.generation, fresh.index.generation)
            return fresh
        finally:
            self._load_lock.release()

    @property
    def index(self) -> PassageIndex:
        """The loaded generation, reloaded when ``CURRENT`` names a newer one."""
        return self._current().index

    def instruments(self) -> InstrumentIndex:
        """The instruments and events of the generation in force (:class:`retrieval.instruments.timeline.InstrumentIndex`),
        reloaded as :attr:`index` is when ``CURRENT`` names a newer generation.

        Raises:
            IndexNotFoundError: nothing indexed yet (or the generation in force holds no passage).
            IndexMismatchError: the generation in force fails its checks and none was loaded before.
        """
        loaded = self._current()
        if not len(loaded.ids):
            raise IndexNotFoundError(str(self.data_dir))
        return loaded.instruments

    @property
    def loaded_index(self) -> PassageIndex | None:
        """The generation loaded now, or None; never loads nor reloads (for health probes)."""
        loaded = self._loaded
        return loaded.index if loaded is not None else None

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector: float32 array of shape (dimension,), L2-normalised (cached)."""
        key = normalise_space(query)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        vec = self.encoder.encode([key])[0]
        with self._lock:
            self._cache[key] = vec
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    # -- search -----------------------------------------------------------------------------
    def search(self, query: str, top_k: int = 5, filters: dict[str, str] | None = None,
               offset: int = 0) -> Answer:
        """Find the items that best answer query.

        Args:
            query: plain text; may carry ``key:value`` filters and an "as of June 2024" phrase
                (see :func:`parse_filters`).
            top_k: hits wanted, 1..MAX_TOP_K; fewer come back when fewer items exist.
            filters: more filters (override those in the query, ``as_of`` included).
            offset: skip this many hits first ("more results").

        Returns:
            An :class:`Answer`; ``answered`` is False when the calibrated rule finds no confident
            answer (or the query is empty); its hits are then the nearest items. Under ``as_of``
            with no bulletin dated up to it, no hits and ``none_dated`` True.

        Raises:
            FilterError: a bad filter (unknown key, a date that is not real or not ISO, an
                unreadable or twice-given "as of" date).
            ConfigurationError: a bad top_k or offset.
        """
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise ConfigurationError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k!r}")
        if not isinstance(offset, int) or offset < 0:
            raise ConfigurationError(f"offset must be >= 0, got {offset!r}")
        # a question from a terminal may carry undecodable bytes (surrogate escapes): replace them
        query = query.encode("utf-8", "replace").decode("utf-8")
        text, in_query = parse_filters(query)
        merged = {k: v for k, v in {**in_query, **(filters or {})}.items() if v and v.strip()}
        validate_filters(merged)
        loaded = self._current()
        if not len(loaded.ids):
            raise IndexNotFoundError(str(self.data_dir))
        if not text:
            return Answer(text, [], answered=False, filters=merged)
        allowed = loaded.allowed_rows(merged)
        if allowed is not None and not len(allowed):
            as_of = merged.get("as_of")
            dated = loaded.allowed_rows({"as_of": as_of}) if as_of else None  # the cut-off alone leaves nothing?
            none_dated = dated is not None and not len(dated)
            return Answer(text, [], answered=False, filters=merged, none_dated=none_dated)
        qvec = self.embed_query(text)
        items = rank_items(loaded, text, qvec, allowed, top_k + offset + 1, self.lexical_weight)
        if not items:
            return Answer(text, [], answered=False, filters=merged, tier="nothing")
        sig = signals(items, text, loaded)
        confidence = self.calibration.confidence(*sig)
        question = analyse(text, loaded.lexical.tokens, loaded.casing, loaded.lexicon)
        shown = items[offset:offset + top_k]
        verdicts = [judge_item(loaded, question, it) for it in shown]
        hits = make_hits(loaded, text, shown, verdicts, offset)
        hits = [dataclasses.replace(h, answers=False, missing=LINKS_ONLY) if links_only(h.text) else h for h in hits]
        best_cosine = items[0].best_cosine
        mentioned = _item_mentions(loaded, question)
        model = self.verdict_model
        feats = []
        if model is not None or self.collect_features:
            top = hits[:MODEL_DEPTH] if offset == 0 else _first_hits(loaded, question, text, items[:MODEL_DEPTH])
            feats = judged_features(loaded, question, text, qvec, items, top, self.encoder, mentioned)
        if model is None:
            first = None if offset == 0 else bool(_first_hits(loaded, question, text, items[:1])[0].answers)
            confident = self.calibration.answered(confidence, best_cosine)
        else:  # the fitted verdict decides the first items; the calibration's off-topic floor stays
            said = [f.names_all and model.answers(f.vector) for f in feats]
            lead = next((i for i, ok in enumerate(said) if ok), None)
            first = None if offset == 0 else lead is not None and (lead == 0 or feats[lead].vector[-1] <= PROMOTE_GAP)
            if offset == 0:
                hits = [dataclasses.replace(h, answers=i < len(said) and said[i],
                                            missing=None if i < len(said) and said[i] else h.missing)
                        for i, h in enumerate(hits)]  # below the judged items, no hit leads
            confident = True
        tier, missing, hits = settle(hits, question, off_topic=best_cosine < self.calibration.min_cosine,
                                     confident=confident, offset=offset, first_answers=first,
                                     lexicon=loaded.lexicon, item_mentions=mentioned)
        hits = mark_later(loaded, hits, merged.get("as_of"))
        return Answer(text, hits, answered=tier == "answers", filters=merged, confidence=confidence, signals=sig,
                      tier=tier, missing=missing, analysis=question, features=tuple(feats))

    def violations(self, answer: Answer) -> list[str]:
        """The reply invariants (:mod:`retrieval.search.tier`) the answer breaks, one sentence each; [] when none
        or when the answer carries no analysis (an empty question, no hits)."""
        if answer.analysis is None:
            return []
        loaded = self._current()
        return violations(answer.tier, answer.missing, answer.hits, answer.analysis, loaded.lexicon,
                          _item_mentions(loaded, answer.analysis))


def _first_hits(loaded: LoadedGeneration, question, text: str, items: list) -> list[Hit]:
    """The hits of the first items of the ranking, judged by the rule verdict (for a "more results" page)."""
    hits = make_hits(loaded, text, items, [judge_item(loaded, question, it) for it in items], 0)
    return [dataclasses.replace(h, answers=False, missing=LINKS_ONLY) if links_only(h.text) else h for h in hits]


def _item_mentions(loaded: LoadedGeneration, question) -> Callable[[Hit, str], bool]:
    """(hit, named thing) -> whether the hit's whole item (headings, link, every passage; a paragraph
    outside items with its section) names it, as the verdict reads it."""

    def item_mentions(hit: Hit, word: str) -> bool:
        rows = {m for pid in hit.passage_ids or (hit.passage.id,) if int(pid) in loaded.row_of
                for m in loaded.members[loaded.item_of[loaded.row_of[int(pid)]]]}
        if not rows:
            return False
        head = loaded.rows[min(rows)]
        key = loaded.item_of[min(rows)]
        scope = [loaded.rows[r].text for r in loaded.sections.get(key[:2], [])] if key[2] is None else []
        text = "\n".join([head.context, head.publisher or "", head.url or "", *(loaded.rows[r].text for r in sorted(rows)),
                          *scope])
        folded, words = _vocabulary(text)
        entity = next(e for e in question.entities if e.word == word)
        return mentions(entity, folded, words, text, tuple(loaded.lexicon.defined_forms(word, head.source_file)))

    return item_mentions
