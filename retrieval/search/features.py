"""The features of the fitted verdict (:mod:`retrieval.search.verdict_model`) for the first items of one search.

Cost: one encoder call per search, on the sentences of the first :data:`~retrieval.search.verdict_model.MODEL_DEPTH`
quotes (at most :data:`MAX_SENTENCES` each); the rest are numbers the ranking already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from retrieval.answerability.verdicts import LINKS_ONLY, Question
from retrieval.chunking import sentence_spans
from retrieval.encoders.factory import Encoder

from .answer import Hit
from .ranking import item_coverage
from .verdict_model import item_features

if TYPE_CHECKING:
    from .loaded import LoadedGeneration
    from .ranking import RankedItem

#: Sentences of one quote compared with the question (the first ones: a quote starts at its best passage).
MAX_SENTENCES = 24


@dataclass(frozen=True)
class ItemFeatures:
    """One judged item: its quote's text (to match a gold text when fitting), its feature vector
    (:data:`~retrieval.search.verdict_model.FEATURES`) and whether it names every named thing asked."""

    text: str
    vector: tuple[float, ...]
    names_all: bool


def quote_sentences(text: str) -> list[str]:
    """The quote's sentences (:func:`retrieval.chunking.sentence_spans`), whitespace-normalised, non-empty,
    at most :data:`MAX_SENTENCES`."""
    out = [" ".join(text[a:b].split()) for a, b in sentence_spans(text)]
    return [s for s in out if s][:MAX_SENTENCES]


def best_sentence_cosines(encoder: Encoder, qvec: np.ndarray, quotes: Sequence[str]) -> list[float]:
    """Per quote, the highest cosine in [-1, 1] between the question's vector and one of its sentences
    (-1.0 for a quote with no sentence); one encoder call for all quotes."""
    groups = [quote_sentences(t) for t in quotes]
    flat = [s for g in groups for s in g]
    if not flat:
        return [-1.0] * len(groups)
    sims = encoder.encode(flat) @ qvec
    out, i = [], 0
    for g in groups:
        out.append(float(sims[i:i + len(g)].max()) if g else -1.0)
        i += len(g)
    return out


def term_features(tokens: Callable[[str], list[str]], idf: Callable[[str], float], question: str,
                  item_text: str, quote: str) -> tuple[float, float]:
    """(sentence_coverage, missing_idf) of one item (see :mod:`retrieval.search.verdict_model`): ``tokens`` and
    ``idf`` are the BM25 tokenizer's stemmed terms and their IDF; ``item_text`` every passage and heading of the
    item, ``quote`` its quote. Both are in [0, 1]; (0.0, 0.0) for a question with no term."""
    terms = set(tokens(question))
    weights = {t: max(idf(t), 0.0) for t in terms}
    total = sum(weights.values())
    if not terms or total <= 0:
        return 0.0, 0.0
    best = 0.0
    for sentence in quote_sentences(quote) or [quote]:
        present = set(tokens(sentence))
        best = max(best, sum(w for t, w in weights.items() if t in present) / total)
    in_item = set(tokens(item_text))
    absent = [w for t, w in weights.items() if t not in in_item]
    return best, (max(absent) / max(weights.values()) if absent else 0.0)


def judged_features(loaded: "LoadedGeneration", question: Question, text: str, qvec: np.ndarray,
                    items: Sequence["RankedItem"], hits: Sequence[Hit], encoder: Encoder,
                    names: Callable[[Hit, str], bool]) -> list[ItemFeatures]:
    """The features of ``hits`` (the first items of the ranking, with their rule verdicts), in order.

    Args:
        items: the ranked items of the search (``items[i]`` is ``hits[i]``'s; one more when there is a next one).
        names: (hit, named thing) -> whether the hit's item names it.
    """
    sentence = best_sentence_cosines(encoder, qvec, [h.text for h in hits])
    out = []
    for i, h in enumerate(hits):
        words = [e.word for e in question.entities]
        named = [names(h, w) for w in words]
        share = sum(named) / len(words) if words else 1.0
        slot_missing = bool(question.slots) and (not h.answers) and not (h.missing or "").startswith("“")
        nxt = items[i + 1].score if i + 1 < len(items) else 0.0
        rows = [loaded.rows[r] for r in loaded.members[items[i].key]]
        sentence_coverage, missing_idf = term_features(
            loaded.lexical.tokens, loaded.lexical.idf, text, "\n".join(f"{r.context}\n{r.text}" for r in rows), h.text)
        vector = item_features(rule=bool(h.answers), slot_asked=bool(question.slots), slot_missing=slot_missing,
                               sentence_coverage=sentence_coverage, missing_idf=missing_idf,
                               names_share=share, cosine=h.cosine if h.cosine is not None else -1.0,
                               sentence_cosine=sentence[i], coverage=item_coverage(items[i], text, loaded),
                               margin=items[i].score - nxt, gap=items[0].score - items[i].score)
        out.append(ItemFeatures(h.text, vector, all(named) and h.missing != LINKS_ONLY))
    return out
