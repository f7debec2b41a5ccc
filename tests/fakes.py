"""Test doubles shared by the test modules: a deterministic, hash-seeded fake encoder.

:class:`HashEncoder` maps each word to a fixed random unit vector (seeded by a hash of the
word) and embeds a text as the normalised sum of its words' vectors, so texts sharing words are
close and identical texts are identical. No model, no network, microseconds per text.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class HashEncoder:
    """Deterministic bag-of-words encoder: float32 vectors of shape (n, dimension), L2-normalised."""

    def __init__(self, dimension: int = 64, name: str = "test/hash-encoder"):
        self.name = name
        self.dimension = dimension
        self.calls = 0
        self.encoded = 0
        self._cache: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vec = self._cache.get(word)
        if vec is None:
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            vec = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            self._cache[word] = vec
        return vec

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row] += self._word(word)
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))
