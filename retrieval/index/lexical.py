"""BM25 lexical search over the same passage ids as the FAISS index (library: bm25s).

Each passage is indexed with its context (bulletin title, section, item title) in front, like its
embedding. Tokens: lower-cased ``\\w+`` runs, English stop words removed (bm25s's ``STOPWORDS_EN_PLUS``),
Snowball-stemmed (PyStemmer). Raw questions with ``?``, ``-`` or ``:`` are safe: punctuation never
reaches a query parser. Scoring is bm25s's Lucene BM25 with k1=1.5, b=0.75 (Robertson & Zaragoza,
"The Probabilistic Relevance Framework: BM25 and Beyond", 2009; Lucene's defaults are k1=1.2,
b=0.75 — 1.5 is bm25s's default).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+")


class _Tokenizer:
    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        self._stem = Stemmer.Stemmer("english").stemWords
        self._stop = frozenset(STOPWORDS_EN_PLUS)
        # per tokenizer (one per index generation): passages and their sentences repeat across queries
        self._cached = functools.lru_cache(maxsize=16384)(self._tokenize)

    def __call__(self, text: str) -> list[str]:
        return list(self._cached(text))

    def _tokenize(self, text: str) -> tuple[str, ...]:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in self._stop]
        return tuple(self._stem(words))


class LexicalIndex:
    """BM25 over passages, aligned with an array of passage ids.

    Args:
        ids: int64 passage ids, shape (n,).
        texts: the text indexed for each id (context + passage), len n.

    Raises:
        ValueError: when ids and texts differ in length.
    """

    def __init__(self, ids: Sequence[int] | np.ndarray, texts: Sequence[str] | None = None):
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)
        self._tokenize = _Tokenizer()
        self._df: dict[str, int] = {}
        if texts is None:  # filled by load()
            return
        if len(ids) != len(texts):
            raise ValueError(f"ids and texts must have the same length, got {len(ids)} and {len(texts)}")
        self._bm25 = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        corpus = [self._tokenize(t) or ["\u2205"] for t in texts]  # an empty doc still needs one token
        if len(corpus):
            self._bm25.index(corpus, show_progress=False)
        self._vocab = set(self._bm25.vocab_dict) if len(corpus) else set()
        for doc in corpus:
            for t in set(doc):
                self._df[t] = self._df.get(t, 0) + 1

    #: Files :meth:`save` writes into its directory (bm25s' own, plus ids and document frequencies).
    FILES = ("params.index.json", "vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy",
             "indptr.csc.index.npy", "ids.npy", "df.json")

    def save(self, directory: str | Path) -> None:
        """Write the index into directory (created): bm25s' matrices, the ids and document frequencies.

        Raises:
            ValueError: for an empty index (nothing to save; an empty generation builds it in no time).
        """
        if not len(self.ids):
            raise ValueError("an empty lexical index is not saved")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(directory))
        np.save(directory / "ids.npy", self.ids)
        (directory / "df.json").write_text(json.dumps(self._df), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, ids: np.ndarray) -> "LexicalIndex":
        """The index :meth:`save` wrote, its matrices memory-mapped (loads in milliseconds at 100k passages).

        Args:
            ids: the passage ids the caller's rows hold, in order; the saved ids must equal them.

        Raises:
            ValueError: when the saved ids differ from ``ids`` (the caller then rebuilds).
            OSError: a missing or unreadable file.
        """
        import bm25s

        directory = Path(directory)
        saved = np.load(directory / "ids.npy")
        if saved.shape != ids.shape or not np.array_equal(saved, ids):
            raise ValueError(f"{directory}: the saved BM25 index is for other passages")
        out = cls(saved)
        out._bm25 = bm25s.BM25.load(str(directory), mmap=True)
        out._vocab = set(out._bm25.vocab_dict)
        out._df = json.loads((directory / "df.json").read_text(encoding="utf-8"))
        return out

    def tokens(self, text: str) -> list[str]:
        """The terms BM25 sees in text: lower-cased, stop words removed, stemmed."""
        return self._tokenize(text)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term, log((n + 1) / (df + 0.5)); high for rare and unseen terms."""
        return float(np.log((len(self.ids) + 1) / (self._df.get(term, 0) + 0.5)))

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for query: float32 array of shape (n,), aligned with ``ids`` (>= 0)."""
        tokens = [t for t in self._tokenize(query) if t in self._vocab]
        if not tokens or not len(self.ids):
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def search(self, query: str, top_k: int) -> list[tuple[int, float]]:
        """Up to top_k (passage id, BM25 score) pairs with a score > 0, best first."""
        s = self.scores(query)
        if top_k <= 0 or not len(s):
            return []
        k = min(top_k, len(s))
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top], kind="stable")]
        return [(int(self.ids[i]), float(s[i])) for i in top if s[i] > 0]
