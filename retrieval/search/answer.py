"""The outcome of a search: :class:`Hit` (one quoted item) and :class:`Answer` (the hits and the reply tier).

Small frozen-ish dataclasses, as printed by ``ask --json`` (:meth:`Answer.to_dict`); no search logic.

The one wording of a reply lives here, for every surface (the CLI, Slack's blocks and their fallback
text): :meth:`Answer.headline` says the tier in one sentence, :func:`missing_phrase` what no passage
states, :meth:`Answer.label` how each quote stands. A surface only chooses its markup — how the
emphasised words are marked (``strong``) and how the user's own words are shown (``show``: escaped and
shortened for Slack) — never the words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from retrieval.chunking import Citation, Passage

if TYPE_CHECKING:
    from retrieval.instruments.timeline import InstrumentEvent
from .filters import readable_date

#: The three honest reply tiers, from most to least: see :class:`Answer`.
TIERS = ("answers", "related", "nothing")


def _same(text: str) -> str:
    return text


def missing_phrase(missing: str, show: Callable[[str], str] = _same) -> str:
    """What no passage states, in words: "No passage mentions “google”" (a named thing: ``missing``
    starts with "“") or "No passage states the amount asked" (an asked slot).

    Args:
        missing: :attr:`Answer.missing` (or :attr:`Hit.missing`).
        show: how ``missing`` is shown (Slack escapes and shortens it); plain by default.
    """
    return f"No passage {'mentions' if missing.startswith('“') else 'states'} {show(missing)}"


@dataclass(frozen=True)
class Hit:
    """One retrieved item: the quoted passage (a verbatim span of the item), its score and rank.

    Attributes:
        passage: the quoted span as a Passage: ``text`` is verbatim, ``citation`` points at it
            (``paragraph`` is its first paragraph), ``id`` is the id of its best passage.
        score: fused score (cosine + lexical part, see module doc); higher is better.
        rank: 1-based.
        highlight: (start, end) span within ``text`` of the sentence that best answers the query.
        cosine: cosine similarity in [-1, 1] between the query and the best passage.
        passage_ids: ids of every indexed passage inside the quoted span, in reading order.
        answers: True when the item states what the question asks (the asked slot is filled and
            the question's named things are in it: :mod:`retrieval.answerability.verdicts`); False when it
            is only related; None when not judged.
        missing: when ``answers`` is False, the asked thing the item does not state.
        later: the later developments of the instruments the item is about (events that later
            bulletins report: adopted after a draft, in force, amended, repealed, a later deadline;
            :meth:`retrieval.instruments.timeline.InstrumentIndex.later_developments`), newest first; the quote
            is never hidden, only marked.
    """

    passage: Passage
    score: float
    rank: int
    highlight: tuple[int, int] | None = None
    cosine: float | None = None
    passage_ids: tuple[int, ...] = ()
    answers: bool | None = None
    missing: str | None = None
    later: tuple["InstrumentEvent", ...] = ()

    @property
    def text(self) -> str:
        """The verbatim passage text."""
        return self.passage.text

    @property
    def citation(self) -> Citation:
        """Where the passage comes from."""
        return self.passage.citation

    @property
    def best_sentence(self) -> str | None:
        """The highlighted sentence, verbatim, or None."""
        return self.text[self.highlight[0]:self.highlight[1]] if self.highlight else None

    def to_dict(self) -> dict:
        """``{"score", "text", "citation": {...}}`` (+ ``best_sentence``) as printed by ``ask --json``."""
        out = {"score": round(self.score, 4), "text": self.text, "citation": self.citation.to_dict()}
        if self.cosine is not None:
            out["cosine"] = round(self.cosine, 4)
        if self.highlight:
            out["best_sentence"] = self.best_sentence
        if self.answers is not None:
            out["answers"] = self.answers
        if self.later:
            out["later_developments"] = [e.to_dict() for e in self.later]
        return out


@dataclass
class Answer:
    """The outcome of one search.

    Attributes:
        query: the query searched, filters removed (Slack markup already removed by the caller).
        hits: best first. When ``answered`` is False they are the nearest items, to be shown
            labelled as not answering the query.
        answered: True only in the "answers" tier.
        filters: the filters in force (keys of FILTER_KEYS), to be shown back with the answer.
        confidence: the calibrated confidence value the decision was taken on (see Calibration).
        signals: (margin, coverage) of the first item, the inputs of that decision.
        features: the fitted verdict's inputs for the first items of the ranking
            (:class:`retrieval.search.features.ItemFeatures`, ranking order), for ``eval --calibrate``.
        tier: one of TIERS — "answers" (the first quote states what was asked), "related" (on the
            topic, but no passage states the asked thing: ``missing`` says what) or "nothing"
            (off-topic: nothing in the bulletins is near). Derived from ``answered`` and the hits
            when not given.
        missing: in the "related" tier, the asked thing no passage states ("the amount asked"), or None.
        none_dated: True when no indexed bulletin is dated up to the ``as_of`` filter, so nothing
            could be searched (the hits are then empty): :meth:`headline` says so.
        analysis: what the question was read to ask (:class:`retrieval.answerability.Question`), or
            None; kept for :func:`retrieval.search.tier.violations`, not printed.

    The ``as_of`` filter (``filters["as_of"]``, an ISO date) is the cut-off the answer is given
    at: :attr:`as_of`, :meth:`cutoff_line` and :meth:`to_dict` show it.
    """

    query: str
    hits: list[Hit]
    answered: bool
    filters: dict = field(default_factory=dict)
    confidence: float | None = None
    signals: tuple[float, float] | None = None
    tier: str = ""
    missing: str | None = None
    none_dated: bool = False
    analysis: Any = field(default=None, repr=False, compare=False)
    features: tuple = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tier:
            self.tier = "answers" if self.answered else ("related" if self.hits else "nothing")
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {self.tier!r}")
        self.answered = self.tier == "answers"

    @property
    def as_of(self) -> str | None:
        """The ``as_of`` cut-off in force (ISO: ``"2024-06"``), or None."""
        return (self.filters or {}).get("as_of") or None

    def cutoff_line(self) -> str | None:
        """"Answering from bulletins dated up to June 2024" when an ``as_of`` cut-off is in force, else None."""
        return f"Answering from bulletins dated up to {readable_date(self.as_of)}" if self.as_of else None

    def label(self, hit: Hit) -> str | None:
        """The hit's label, the same in every rendering (terminal, ``--json``, Slack blocks, fallback text):
        "answers", "related", "far" (the "nothing" tier), or None when the hit was not judged.
        Labels follow the tier (:func:`retrieval.search.tier.settle`): only the "answers" tier has answering hits."""
        if hit.answers is None:
            return None
        if self.tier == "nothing":
            return "far"
        return "answers" if hit.answers and self.tier == "answers" else "related"

    def headline(self, *, quotes: bool = True, more: bool = False, strong: Callable[[str], str] = _same,
                 show: Callable[[str], str] = _same) -> str:
        """The tier in one sentence, shown above the quotes: the one wording of every surface (no final stop).

        - "answers": ``Passages that answer “Q”`` (``More passages for “Q”`` on a later page, ``more``);
        - "related": ``No passage states the amount asked; the nearest passages do not answer “Q”``
          (:func:`missing_phrase`), or ``No confident answer to “Q”; the nearest passages do not answer it``;
        - "nothing": ``Nothing in the bulletins is about “Q”``, plus ``; the nearest passages are far from
          it`` when they are shown (``quotes``); ``I found no passage in the bulletins for “Q”`` when
          there is no hit at all; ``No bulletin is dated up to May 2019, so nothing can be quoted for “Q”``
          when the ``as_of`` cut-off left nothing to search.

        Args:
            quotes: whether the surface shows the hits under the headline.
            more: a page after the first ("More results").
            strong: marks the words to emphasise (Slack: ``*bold*``); plain by default.
            show: shows the user's words, the query and what is missing (Slack: escaped, shortened).
        """
        q = f"“{show(self.query)}”"
        if self.none_dated and self.as_of:
            return f"{strong(f'No bulletin is dated up to {readable_date(self.as_of)}')}, so nothing can be quoted for {q}"
        if not self.hits:
            return f"I found no passage in the bulletins for {q}"
        if self.tier == "answers":
            return f"{strong('More passages')} for {q}" if more else f"{strong('Passages that answer')} {q}"
        if self.tier == "nothing":
            return f"Nothing in the bulletins is about {q}" + ("; the nearest passages are far from it" if quotes else "")
        nearest = f"; the nearest passages do {strong('not')} answer"
        if self.missing:
            return f"{strong(missing_phrase(self.missing, show))}{nearest} {q}"
        return f"{strong('No confident answer')} to {q}{nearest} it"

    def to_dict(self) -> dict:
        """``{"query", "answered", "tier", "hits": [...]}`` as printed by ``ask --json`` (each hit with its
        ``answers`` flag and ``label`` as :meth:`label` gives them), plus ``missing``,
        ``filters``, ``as_of`` (the cut-off, ISO: ``"2024-06"``) and ``none_dated: true`` when they apply."""
        hits = []
        for h in self.hits:
            d = h.to_dict()
            if (label := self.label(h)) is not None:
                d["answers"], d["label"] = label == "answers", label
            hits.append(d)
        out = {"query": self.query, "answered": self.answered, "tier": self.tier, "hits": hits}
        if self.missing:
            out["missing"] = self.missing
        if self.filters:
            out["filters"] = self.filters
        if self.as_of:
            out["as_of"] = self.as_of
        if self.none_dated:
            out["none_dated"] = True
        return out
