"""How the corpus writes each word: with a capital or not (for telling names from common words).

A lower-case "tiktok" in a question is a name because the bulletins nearly always write "TikTok";
:class:`CaseProfile` holds those shares for one index generation, which saves it at write time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from ..text import LINK

_CASE_WORD = re.compile(r"((?:^|[.!?:*\n-])\s*)?\b([A-Za-z][A-Za-z'’&-]*[A-Za-z]|[A-Za-z])", re.MULTILINE)

#: Most passages read to build a CaseProfile (measured: 4.3 s for 100,000 passages, 0.9 s for 20,000).
CASE_SAMPLE = 20_000


class CaseProfile:
    """How often each word is written with a capital in the corpus, away from sentence starts.

    Built once per index generation from the passage texts (an even sample of CASE_SAMPLE of them
    in larger corpora); :meth:`capitalised` is True for words capitalised at least ``min_share`` of
    the time over at least ``min_count`` occurrences.
    """

    def __init__(self, texts: Iterable[str], min_share: float = 0.8, min_count: int = 2):
        self.min_share, self.min_count = min_share, min_count
        # one C-level findall over the joined text; a word after a sentence or line start (the
        # prefix group matched) says nothing about its case and is left out
        texts = list(texts)
        if len(texts) > CASE_SAMPLE:  # an even sample bounds the cost (~1 s at 20,000 passages, 2 cores)
            texts = texts[::-(-len(texts) // CASE_SAMPLE)]
        # links are blanked first: "…/uber-fined-eu10-million…" would count as "uber" written in lower case
        found = _CASE_WORD.findall(LINK.sub(" ", "\n".join(texts)))
        words = Counter(w for prefix, w in found if not prefix)
        total: Counter[str] = Counter()
        caps: Counter[str] = Counter()
        for w, n in words.items():
            low = w.lower()
            total[low] += n
            if w[0].isupper():
                caps[low] += n
        self._share = {w: caps[w] / n for w, n in total.items() if n >= min_count}
        self.words = frozenset(total)

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON (a generation keeps it beside its BM25 index)."""
        Path(path).write_text(json.dumps({"min_share": self.min_share, "min_count": self.min_count,
                                          "share": self._share, "words": sorted(self.words)}), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "CaseProfile":
        """The profile :meth:`save` wrote.

        Raises:
            OSError: a missing or unreadable file. ValueError: not a saved profile.
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not {"share", "words", "min_share", "min_count"} <= set(data):
            raise ValueError(f"{path}: not a saved case profile")
        out = cls([], data["min_share"], data["min_count"])
        out._share = {str(k): float(v) for k, v in data["share"].items()}
        out.words = frozenset(data["words"])
        return out

    def __contains__(self, word: str) -> bool:
        """True when the corpus has the word (lower-cased) anywhere but at a sentence start."""
        return word.lower() in self.words

    def capitalised(self, word: str) -> bool:
        """True when the corpus nearly always writes word (lower-cased) with a capital."""
        return self._share.get(word.lower(), 0.0) >= self.min_share
