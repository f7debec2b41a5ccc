"""Search: a query → hits → an answer (the hits to quote, or an explicit "no confident answer").

The pipeline (figures measured with ``bulletin-bot eval``; method and numbers in docs/retrieval.md):

1. **Filters** written in the query (``section:enforcement since:2024-10 until:2025-01
   bulletin:NAME publisher:NAME``) or given as arguments restrict the passages searched.
2. **Candidates**: the dense top-N (FAISS, cosine) and the BM25 top-N (:mod:`retrieval.lexical`).
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
   (:mod:`retrieval.answerability`: the asked slot filled, the question's named things present);
   the quote is widened to the passage that states it and that sentence is highlighted.
8. **Tier**: "answers" when the first item's verdict passes and :class:`Calibration` (per model:
   fused-score margin between the first two items and the share of the query's terms the first
   item contains) is confident; "nothing" below the calibration's off-topic cosine floor;
   "related" otherwise.

Scores on hits are the fused scores above (cosine similarity plus the lexical part); ``Hit.cosine``
is the plain cosine similarity in [-1, 1].

:class:`Searcher` follows the data directory: when a new index generation is switched in
(``bulletin-bot ingest`` while a server runs), the next search loads it; a generation that fails
its checks is never served (the one already loaded keeps serving, and the error is logged).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .answer import TIERS, Answer, Hit  # noqa: F401  (re-exported: the public types of a search)
from .answerability import CaseProfile, Verdict, analyse, judge
from .bulletin import normalise_space
from .calibration import Calibration, calibration_for, signals
from .chunking import Citation, Passage, _sentence_spans
from .encoder import Encoder
from .errors import ConfigurationError, IndexMismatchError, IndexNotFoundError
from .filters import FILTER_KEYS, parse_filters, validate_filters  # noqa: F401  (re-exported)
from .index import PassageIndex, current_generation
from .lexical import LexicalIndex

log = logging.getLogger(__name__)

#: Most hits one query may ask for.
MAX_TOP_K = 50
#: Weight of the normalised BM25 score in the fused score.
LEXICAL_WEIGHT = 0.3
#: Candidates taken from each retriever per hit wanted (at least MIN_CANDIDATES).
CANDIDATES_PER_HIT = 10
MIN_CANDIDATES = 50
#: Passages of the same item within this fused score of its best passage join the quoted span.
#: (dev sets, after sub-bullets became paragraphs: hit@1 0.988 at 0.10, 0.12 and 0.15; quotes 859, 900, 948 chars)
SPAN_MARGIN = 0.1
#: Longest quoted span, in characters (the best passage alone is never cut).
SPAN_MAX_CHARS = 2000
#: Two hits whose best passages have a cosine above this are near-duplicates.
NEAR_DUPLICATE_COSINE = 0.97

def _item_key(source_file: str, section: str | None, item_number: int | None, paragraph: int) -> tuple:
    return (source_file, section, item_number) if item_number is not None else (source_file, section, None, paragraph)


class _Loaded:
    """One index generation with its BM25 index and in-memory catalog."""

    def __init__(self, index: PassageIndex, lexical: bool = True):
        self.index = index
        rows = index.catalog()
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.row_of = {int(pid): i for i, pid in enumerate(self.ids)}
        self.rows = rows
        self.item_of = [_item_key(r[1], r[2], r[3], r[4]) for r in rows]
        self.members: dict[tuple, list[int]] = {}
        self.sections: dict[tuple, list[int]] = {}  # (source_file, section) -> rows outside items
        for i, key in enumerate(self.item_of):
            self.members.setdefault(key, []).append(i)
            if key[2] is None:
                self.sections.setdefault(key[:2], []).append(i)
        texts = [f"{r[7]}\n{r[8]}" for r in rows] if lexical else []
        self.lexical = LexicalIndex(self.ids if lexical else [], texts)
        self.casing = CaseProfile(r[8] for r in rows)
        self._texts: dict[str, str] = {}

    def source_text(self, source_file: str) -> str:
        if source_file not in self._texts:
            self._texts[source_file] = self.index.source_text(source_file)
        return self._texts[source_file]

    def allowed_rows(self, filters: dict[str, str]) -> np.ndarray | None:
        """Row indices that pass the filters, or None when no filter is set."""
        if not filters:
            return None
        keep = []
        sec = filters.get("section", "").lower()
        bul = filters.get("bulletin", "").lower()
        pub = filters.get("publisher", "").lower()
        since, until = filters.get("since"), filters.get("until")
        for i, r in enumerate(self.rows):
            source_file, section, title, publisher, date = r[1], r[2], r[9], r[10], r[11]
            if sec and sec not in (section or "").lower():
                continue
            if bul and bul not in title.lower() and bul not in source_file.lower():
                continue
            if pub and pub not in (publisher or "").lower():
                continue
            if since and (not date or date[:len(since)] < since[:len(date)]):
                continue
            if until and (not date or date[:len(until)] > until[:len(date)]):
                continue
            keep.append(i)
        return np.array(keep, dtype=np.int64)


#: Key of :attr:`Searcher._failures` for an unreadable ``CURRENT`` (never a generation name).
_CURRENT_KEY = "/CURRENT"


class Searcher:
    """Answers queries from the index generation in force in a data directory.

    Args:
        data_dir: the data directory (see :mod:`retrieval.index`).
        encoder: embeds queries; its model must be the index's.
        calibration: the "no confident answer" rule; default: the one kept for the encoder's model
            (:func:`retrieval.calibration.calibration_for`).
        cache_size: identical queries whose vectors are kept (encoding costs ~10 ms; search far less).
        lexical_weight: weight of BM25 in the fused score; 0 gives dense-only search (no BM25 built).

    Raises (from :meth:`search`):
        IndexNotFoundError: nothing indexed yet.
        IndexMismatchError: the generation in force fails its checks and none was loaded before.
        ConfigurationError: a bad top_k or filter.
    """

    def __init__(self, data_dir: str | Path, encoder: Encoder, calibration: Calibration | None = None,
                 cache_size: int = 256, lexical_weight: float = LEXICAL_WEIGHT):
        if lexical_weight < 0:
            raise ConfigurationError(f"lexical_weight must be >= 0, got {lexical_weight}")
        self.lexical_weight = lexical_weight
        self.data_dir = Path(data_dir)
        self.encoder = encoder
        self.calibration = calibration or calibration_for(encoder.name)
        self._loaded: _Loaded | None = None
        self._failures: dict[str, str] = {}  # generation name (or CURRENT) -> why it failed to load: not retried
        self._lock = threading.Lock()  # guards the query-vector cache
        self._load_lock = threading.Lock()  # one generation load at a time
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    # -- the index in force ---------------------------------------------------------------
    def _current(self) -> _Loaded:
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
                fresh = _Loaded(PassageIndex.load(self.data_dir, model=self.encoder.name, generation=name),
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
            query: plain text; may carry ``key:value`` filters (see :func:`parse_filters`).
            top_k: hits wanted, 1..MAX_TOP_K; fewer come back when fewer items exist.
            filters: more filters (override those in the query).
            offset: skip this many hits first ("more results").

        Returns:
            An :class:`Answer`; ``answered`` is False when the calibrated rule finds no confident
            answer (or the query is empty); its hits are then the nearest items.
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
            return Answer(text, [], answered=False, filters=merged)
        qvec = self.embed_query(text)
        items = self._rank_items(loaded, text, qvec, allowed, top_k + offset + 1)
        if not items:
            return Answer(text, [], answered=False, filters=merged, tier="nothing")
        sig = signals(items, text, loaded)
        confidence = self.calibration.confidence(*sig)
        question = analyse(text, loaded.lexical.tokens, loaded.casing)
        shown = items[offset:offset + top_k]
        verdicts = [self._judge(loaded, question, it) for it in shown]
        first = verdicts[0] if offset == 0 and verdicts else self._judge(loaded, question, items[0])
        hits = self._make_hits(loaded, text, shown, verdicts, offset)
        best_cosine = items[0].best_cosine
        if best_cosine < self.calibration.min_cosine:
            tier = "nothing"
        elif first.answers and self.calibration.answered(confidence, best_cosine):
            tier = "answers"
        else:
            tier = "related"
        missing = first.missing if tier == "related" else None
        if tier == "nothing":  # off-topic: no hit answers, whatever its own verdict
            hits = [dataclasses.replace(h, answers=False, missing=None) for h in hits]
        elif not question.specific:  # nothing particular asked: a hit answers only as the reply does
            hits = [dataclasses.replace(h, answers=tier == "answers") for h in hits]
        return Answer(text, hits, answered=tier == "answers", filters=merged, confidence=confidence, signals=sig,
                      tier=tier, missing=missing)

    def _judge(self, loaded: _Loaded, question, it: "_RankedItem") -> Verdict:
        """The item's verdict (see :func:`retrieval.answerability.judge`), its filler row noted on it."""
        rows = loaded.members[it.key]
        scope = ""
        if it.key[2] is None:  # a paragraph outside any item: its section tells what it is about
            section = loaded.sections.get(it.key[:2], [])
            scope = "\n".join(loaded.rows[r][8] for r in section if r not in rows)
        # fillers are looked for first in the passages that fit in one quote with the best one, best-scoring first
        score_of = dict(zip(it.rows, it.scores))
        best = loaded.rows[it.best_row]

        def fits(r: int) -> bool:
            return max(best[6], loaded.rows[r][6]) - min(best[5], loaded.rows[r][5]) <= SPAN_MAX_CHARS

        order = sorted(range(len(rows)), key=lambda j: (not fits(rows[j]), -score_of.get(rows[j], -math.inf)))
        verdict = judge(question, [loaded.rows[r][8] for r in rows], loaded.rows[rows[0]][7], loaded.lexical.tokens,
                        scope, order)
        if verdict.filler is not None:
            it.filler_row = rows[verdict.filler[0]]
            it.filler_span = verdict.filler[1:]
        return verdict

    def _rank_items(self, loaded: _Loaded, text: str, qvec: np.ndarray, allowed: np.ndarray | None,
                    n_items: int) -> list["_RankedItem"]:
        n_cand = max(MIN_CANDIDATES, CANDIDATES_PER_HIT * n_items)
        allowed_ids = loaded.ids[allowed] if allowed is not None else None
        dense = loaded.index.search(qvec[None, :], n_cand, allowed_ids=allowed_ids)[0]
        bm25 = loaded.lexical.scores(text) if self.lexical_weight > 0 else np.zeros(len(loaded.ids), dtype=np.float32)
        if allowed is not None:
            mask = np.zeros(len(bm25), dtype=bool)
            mask[allowed] = True
            bm25 = np.where(mask, bm25, 0.0)
        bm25_max = float(bm25.max()) if len(bm25) else 0.0
        cand_rows = {loaded.row_of[pid] for pid, _ in dense}
        if bm25_max > 0:
            top_lex = np.argpartition(-bm25, min(n_cand, len(bm25) - 1))[:n_cand]
            cand_rows.update(int(r) for r in top_lex if bm25[r] > 0)
        # every passage of a candidate's item is scored, so the item's span can be chosen
        rows = sorted({m for r in cand_rows for m in loaded.members[loaded.item_of[r]]})
        if allowed is not None:
            rows = [r for r in rows if mask[r]]
        vectors = loaded.index.vectors(loaded.ids[rows])
        cos = vectors @ qvec
        lex = (bm25[rows] / bm25_max) if bm25_max > 0 else np.zeros(len(rows), dtype=np.float32)
        fused = cos + self.lexical_weight * lex
        by_item: dict[tuple, _RankedItem] = {}
        for row, c, f, vec in zip(rows, cos, fused, vectors):
            key = loaded.item_of[row]
            it = by_item.setdefault(key, _RankedItem(key))
            it.rows.append(row)
            it.scores.append(float(f))
            if f > it.score:
                it.score, it.best_row, it.best_vec, it.best_cosine = float(f), row, vec, float(c)
        ranked = sorted(by_item.values(), key=lambda it: -it.score)
        out: list[_RankedItem] = []
        seen_texts: set[str] = set()
        for it in ranked:
            norm = normalise_space(loaded.rows[it.best_row][8]).lower()
            if norm in seen_texts or any(float(it.best_vec @ o.best_vec) > NEAR_DUPLICATE_COSINE for o in out):
                continue
            seen_texts.add(norm)
            out.append(it)
            if len(out) >= n_items:
                break
        return out

    def _make_hits(self, loaded: _Loaded, text: str, items: list["_RankedItem"], verdicts: list[Verdict],
                   offset: int) -> list[Hit]:
        hits = []
        spans = [self._span(loaded, it) for it in items]
        best = self._best_sentences(loaded, text, spans)
        for i, (it, (passage, member_ids), hl, v) in enumerate(zip(items, spans, best, verdicts)):
            if v.answers and it.filler_row is not None:
                hl = self._filler_sentence(loaded, it, passage) or hl
            hits.append(Hit(passage, it.score, offset + i + 1, hl, it.best_cosine, member_ids,
                            answers=v.answers, missing=v.missing))
        return hits

    @staticmethod
    def _filler_sentence(loaded: _Loaded, it: "_RankedItem", passage: Passage) -> tuple[int, int] | None:
        """(start, end) within the quote of the sentence holding the item's filler, or None."""
        row = loaded.rows[it.filler_row]
        at = row[5] - passage.citation.char_start + it.filler_span[0]
        if not 0 <= at < len(passage.text):
            return None
        return next(((s, e) for s, e in _sentence_spans(passage.text) if s <= at < e), None)

    def _span(self, loaded: _Loaded, it: "_RankedItem") -> tuple[Passage, tuple[int, ...]]:
        """The quoted span of an item: its passages within SPAN_MARGIN of the best, contiguous."""
        order = sorted(range(len(it.rows)), key=lambda j: loaded.rows[it.rows[j]][5])
        rows = [it.rows[j] for j in order]
        scores = [it.scores[j] for j in order]
        b = rows.index(it.best_row)
        lo = hi = b
        if it.filler_row is not None and it.filler_row in rows:
            f = rows.index(it.filler_row)
            if loaded.rows[rows[max(b, f)]][6] - loaded.rows[rows[min(b, f)]][5] <= SPAN_MAX_CHARS:
                lo, hi = min(b, f), max(b, f)
            else:  # the passage that states the answer matters more than the one that matched best
                lo = hi = b = f
        good = [j for j, s in enumerate(scores) if s >= it.score - SPAN_MARGIN]
        for j in sorted(good, key=lambda j: abs(j - b)):
            nlo, nhi = min(lo, j), max(hi, j)
            if loaded.rows[rows[nhi]][6] - loaded.rows[rows[nlo]][5] <= SPAN_MAX_CHARS:
                lo, hi = nlo, nhi
        first, last, best = loaded.rows[rows[lo]], loaded.rows[rows[hi]], loaded.rows[rows[b]]
        _, source_file, section, item_number, paragraph, start, _, _, _, title, publisher, date, item_title, url = first[:14]
        end = last[6]
        source = loaded.source_text(source_file)
        citation = Citation(bulletin=title, publisher=publisher, date=date, section=section, item_number=item_number,
                            item_title=item_title, paragraph=paragraph, url=url,
                            source_file=source_file, char_start=start, char_end=end, page=first[14])
        passage = Passage(int(best[0]), source[start:end], citation, best[7])
        return passage, tuple(int(loaded.ids[r]) for r in rows[lo:hi + 1])

    def _best_sentences(self, loaded: _Loaded, text: str, spans: list[tuple[Passage, tuple]]) -> list[tuple[int, int] | None]:
        """For each quoted span, the (start, end) of the sentence sharing the most query terms.

        Terms are BM25's (stemmed, stop words removed), weighted by IDF; ties go to the earlier
        sentence. Lexical on purpose: encoding every sentence of every hit would cost more than
        the whole search (measured: ~0.9 s per query with the real model under load).
        """
        terms = set(loaded.lexical.tokens(text))
        out: list[tuple[int, int] | None] = []
        for p, _ in spans:
            best, best_span = 0.0, None
            for s, e in _sentence_spans(p.text):
                found = set(loaded.lexical.tokens(p.text[s:e])) & terms
                weight = sum(loaded.lexical.idf(t) for t in found)
                if weight > best:
                    best, best_span = weight, (s, e)
            out.append(best_span)
        return out


@dataclass
class _RankedItem:
    key: tuple
    rows: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    score: float = -math.inf
    best_row: int = -1
    best_cosine: float = -1.0
    best_vec: np.ndarray | None = None
    filler_row: int | None = None
    filler_span: tuple[int, int] = (0, 0)
