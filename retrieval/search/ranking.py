"""Ranking a query's items: fusion, spans, near-duplicates, best sentences, answerability, signals.

Pure functions over a :class:`~retrieval.search.loaded.LoadedGeneration` (method and figures: module doc of
:mod:`retrieval.search.searcher` and docs/retrieval.md). :func:`signals` gives the (margin, coverage) inputs of
the calibrated "no confident answer" rule (:mod:`retrieval.search.calibration`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from retrieval.answerability.verdicts import Question, Verdict, judge
from retrieval.chunking import Citation, Passage, sentence_spans
from retrieval.text import normalise_space

from .answer import Hit
from .loaded import LoadedGeneration

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


def judge_item(loaded: LoadedGeneration, question: Question, it: "RankedItem") -> Verdict:
    """The item's verdict (see :func:`retrieval.answerability.verdicts.judge`), its filler row noted on it."""
    rows = loaded.members[it.key]
    scope = ""
    if it.key[2] is None:  # a paragraph outside any item: its section tells what it is about
        section = loaded.sections.get(it.key[:2], [])
        scope = "\n".join(loaded.rows[r].text for r in section if r not in rows)
    # fillers are looked for first in the passages that fit in one quote with the best one, best-scoring first
    score_of = dict(zip(it.rows, it.scores))
    best = loaded.rows[it.best_row]

    def fits(r: int) -> bool:
        return max(best.char_end, loaded.rows[r].char_end) - min(best.char_start, loaded.rows[r].char_start) <= SPAN_MAX_CHARS

    order = sorted(range(len(rows)), key=lambda j: (not fits(rows[j]), -score_of.get(rows[j], -math.inf)))
    head = loaded.rows[rows[0]]
    context = "\n".join(p for p in (head.context, head.publisher, head.url) if p)
    verdict = judge(question, [loaded.rows[r].text for r in rows], context, loaded.lexical.tokens,
                    scope, order, loaded.lexicon, head.source_file)
    if verdict.filler is not None:
        it.filler_row = rows[verdict.filler[0]]
        it.filler_span = verdict.filler[1:]
    return verdict


def rank_items(loaded: LoadedGeneration, text: str, qvec: np.ndarray, allowed: np.ndarray | None,
               n_items: int, lexical_weight: float) -> list["RankedItem"]:
    """The best n_items items for a query: candidates from FAISS and BM25, every passage of their
    items scored (cosine + lexical_weight · BM25/max), one entry per item, near-duplicates collapsed."""
    n_cand = max(MIN_CANDIDATES, CANDIDATES_PER_HIT * n_items)
    allowed_ids = loaded.ids[allowed] if allowed is not None else None
    dense = loaded.index.search(qvec[None, :], n_cand, allowed_ids=allowed_ids)[0]
    bm25 = loaded.lexical.scores(text) if lexical_weight > 0 else np.zeros(len(loaded.ids), dtype=np.float32)
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
    fused = cos + lexical_weight * lex
    by_item: dict[tuple, RankedItem] = {}
    for row, c, f, vec in zip(rows, cos, fused, vectors):
        key = loaded.item_of[row]
        it = by_item.setdefault(key, RankedItem(key))
        it.rows.append(row)
        it.scores.append(float(f))
        if f > it.score:
            it.score, it.best_row, it.best_vec, it.best_cosine = float(f), row, vec, float(c)
    ranked = sorted(by_item.values(), key=lambda it: -it.score)
    out: list[RankedItem] = []
    seen_texts: set[str] = set()
    for it in ranked:
        norm = normalise_space(loaded.rows[it.best_row].text).lower()
        if norm in seen_texts or any(float(it.best_vec @ o.best_vec) > NEAR_DUPLICATE_COSINE for o in out):
            continue
        seen_texts.add(norm)
        out.append(it)
        if len(out) >= n_items:
            break
    return out


def make_hits(loaded: LoadedGeneration, text: str, items: list["RankedItem"], verdicts: list[Verdict],
              offset: int) -> list[Hit]:
    """One Hit per item: its quoted span, best sentence (the answering one when judged so) and verdict."""
    hits = []
    spans = [span(loaded, it) for it in items]
    best = best_sentences(loaded, text, spans)
    for i, (it, (passage, member_ids), hl, v) in enumerate(zip(items, spans, best, verdicts)):
        if v.answers and it.filler_row is not None:
            hl = filler_sentence(loaded, it, passage) or hl
        hits.append(Hit(passage, it.score, offset + i + 1, hl, it.best_cosine, member_ids,
                        answers=v.answers, missing=v.missing))
    return hits


def filler_sentence(loaded: LoadedGeneration, it: "RankedItem", passage: Passage) -> tuple[int, int] | None:
    """(start, end) within the quote of the sentence holding the item's filler, or None."""
    if it.filler_row is None:
        return None
    row = loaded.rows[it.filler_row]
    at = row.char_start - passage.citation.char_start + it.filler_span[0]
    if not 0 <= at < len(passage.text):
        return None
    return next(((s, e) for s, e in sentence_spans(passage.text) if s <= at < e), None)


def span(loaded: LoadedGeneration, it: "RankedItem") -> tuple[Passage, tuple[int, ...]]:
    """The quoted span of an item: its passages within SPAN_MARGIN of the best, contiguous."""
    order = sorted(range(len(it.rows)), key=lambda j: loaded.rows[it.rows[j]].char_start)
    rows = [it.rows[j] for j in order]
    scores = [it.scores[j] for j in order]
    b = rows.index(it.best_row)
    lo = hi = b
    if it.filler_row is not None and it.filler_row in rows:
        f = rows.index(it.filler_row)
        if loaded.rows[rows[max(b, f)]].char_end - loaded.rows[rows[min(b, f)]].char_start <= SPAN_MAX_CHARS:
            lo, hi = min(b, f), max(b, f)
        else:  # the passage that states the answer matters more than the one that matched best
            lo = hi = b = f
    good = [j for j, s in enumerate(scores) if s >= it.score - SPAN_MARGIN]
    for j in sorted(good, key=lambda j: abs(j - b)):
        nlo, nhi = min(lo, j), max(hi, j)
        if loaded.rows[rows[nhi]].char_end - loaded.rows[rows[nlo]].char_start <= SPAN_MAX_CHARS:
            lo, hi = nlo, nhi
    first, last, best = loaded.rows[rows[lo]], loaded.rows[rows[hi]], loaded.rows[rows[b]]
    source_file, start, end = first.source_file, first.char_start, last.char_end
    source = loaded.source_text(source_file)
    citation = Citation(bulletin=first.title, publisher=first.publisher, date=first.date, section=first.section,
                        item_number=first.item_number, item_title=first.item_title, paragraph=first.paragraph,
                        url=first.url, source_file=source_file, char_start=start, char_end=end, page=first.page)
    passage = Passage(int(best.id), source[start:end], citation, best.context)
    return passage, tuple(int(loaded.ids[r]) for r in rows[lo:hi + 1])


def best_sentences(loaded: LoadedGeneration, text: str, spans: list[tuple[Passage, tuple]]) -> list[tuple[int, int] | None]:
    """For each quoted span, the (start, end) of the sentence sharing the most query terms.

    Terms are BM25's (stemmed, stop words removed), weighted by IDF; ties go to the earlier
    sentence. Lexical on purpose: encoding every sentence of every hit would cost more than
    the whole search (measured: ~0.9 s per query with the real model under load).
    """
    terms = set(loaded.lexical.tokens(text))
    out: list[tuple[int, int] | None] = []
    for p, _ in spans:
        best, best_span = 0.0, None
        for s, e in sentence_spans(p.text):
            found = set(loaded.lexical.tokens(p.text[s:e])) & terms
            weight = sum(loaded.lexical.idf(t) for t in found)
            if weight > best:
                best, best_span = weight, (s, e)
        out.append(best_span)
    return out


def signals(items: list["RankedItem"], query: str, loaded: LoadedGeneration) -> tuple[float, float]:
    """(margin, coverage) for the first item; see the module doc."""
    first = items[0]
    margin = first.score - items[1].score if len(items) > 1 else first.score
    return margin, item_coverage(first, query, loaded)


def item_coverage(item: "RankedItem", query: str, loaded: LoadedGeneration) -> float:
    """The IDF-weighted share in [0, 1] of the query's (stemmed BM25) terms that the item's headings and
    passages contain; 0.0 for a query with no term."""
    terms = set(loaded.lexical.tokens(query))
    if not terms:
        return 0.0
    item_terms: set[str] = set()
    for row in loaded.members[item.key]:
        r = loaded.rows[row]
        item_terms.update(loaded.lexical.tokens(f"{r.context}\n{r.text}"))
    total = sum(loaded.lexical.idf(t) for t in terms)
    covered = sum(loaded.lexical.idf(t) for t in terms if t in item_terms)
    return covered / total if total > 0 else 0.0


@dataclass
class RankedItem:
    """One item as ranked for a query: its scored rows, best row and score, and the filler found in it."""

    key: tuple
    rows: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    score: float = -math.inf
    best_row: int = -1
    best_cosine: float = -1.0
    best_vec: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    filler_row: int | None = None
    filler_span: tuple[int, int] = (0, 0)
