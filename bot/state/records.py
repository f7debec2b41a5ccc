"""What the audit trail keeps of an answer beyond its query: :class:`AnswerDetails` and its :class:`ShownHit` s.

An answer record (:class:`~bot.state.protocol.AnswerRecord`) says who asked what, where and when; its
``details`` say on what basis the bot answered: the index generation in force, the reply tier and what
no passage states (``missing``), the filters and the ``as_of`` cut-off, and for each hit shown its
citation (bulletin, publisher, date, section, item, paragraph, page, URL, source file and character
offsets), the verbatim quote with its SHA-256, the best sentence's span, the score and the later
developments marked on it. That is enough to show the quote again, and to check it, after the index
has been rebuilt (passage ids alone mean nothing then). Bulletin quotes hold no personal data.

Stored as one JSON object (:meth:`AnswerDetails.to_json`) in the ``answers`` row, by both stores.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.search.answer import Answer, Hit

#: Where an answer was given: Slack surfaces, a "More results" page, a shared answer, the CLI.
SURFACES = ("mention", "dm", "thread", "command", "more", "share", "cli")


def searched_generation(searcher) -> str | None:
    """The index generation ``searcher`` (a :class:`~retrieval.search.searcher.Searcher`) has loaded — the one
    it just searched — or None when it cannot say (a stand-in searcher)."""
    index = getattr(searcher, "loaded_index", None)  # a property: the generation loaded, never (re)loading
    generation = getattr(index, "generation", None)
    return generation if isinstance(generation, str) else None


def quote_sha256(text: str) -> str:
    """Hex SHA-256 of a quote's verbatim text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ShownHit:
    """One hit as it was shown.

    Attributes:
        rank: 1-based rank in the answer (a "More results" page goes on counting).
        citation: :meth:`retrieval.chunking.Citation.to_dict` — bulletin, publisher, date, section,
            item_number, item_title, paragraph, url, source_file, char_start, char_end, page.
        text: the verbatim quote; ``sha256`` its :func:`quote_sha256`.
        best_sentence: the highlighted sentence (verbatim, inside ``text``), or None.
        score, cosine: the fused score and the cosine similarity in [-1, 1] (None when not computed).
        answers: the hit's own verdict (True: it states what was asked), None when not judged.
        passage_ids: ids of the indexed passages quoted (meaningful in ``generation`` only).
        later: the later developments marked on it: ``[{"when", "kind", "bulletin", "source_file"}]``.
    """

    rank: int
    citation: dict
    text: str
    sha256: str
    best_sentence: str | None = None
    score: float | None = None
    cosine: float | None = None
    answers: bool | None = None
    passage_ids: list[int] = field(default_factory=list)
    later: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, hit: "Hit") -> "ShownHit":
        """The record of a :class:`~retrieval.search.answer.Hit`."""
        later = [{"when": e.when, "kind": e.kind, "bulletin": e.citation.bulletin,
                  "source_file": e.citation.source_file} for e in hit.later]
        return cls(hit.rank, hit.citation.to_dict(), hit.text, quote_sha256(hit.text), hit.best_sentence,
                   round(float(hit.score), 4), None if hit.cosine is None else round(float(hit.cosine), 4),
                   hit.answers, [int(i) for i in (hit.passage_ids or (hit.passage.id,))], later)

    @property
    def item_key(self) -> tuple:
        """(source file, bulletin, date, section, item number, paragraph): which paragraph was cited,
        whatever the character offsets became after an edit."""
        c = self.citation
        return (c.get("source_file"), c.get("bulletin"), c.get("date"), c.get("section"), c.get("item_number"),
                c.get("paragraph"))

    @property
    def gold(self) -> str:
        """The verbatim span an eval question uses as its gold: the best sentence, else the whole quote."""
        return self.best_sentence or self.text

    def label(self, limit: int | None = None) -> str:
        """``[2] Bulletin title · 2024-06 · item 4 · ¶2``: one line naming the hit (plain text); with ``limit``
        the bulletin title is shortened (with "…") so that the whole line fits in ``limit`` characters."""
        c = self.citation
        title = str(c.get("bulletin") or c.get("source_file") or "?")
        tail = [c.get("date"), f"item {c['item_number']}" if c.get("item_number") is not None else c.get("section"),
                f"¶{c['paragraph']}" if c.get("paragraph") is not None else None]
        rest = "".join(f" · {p}" for p in tail if p)
        head = f"[{self.rank}] "
        if limit is not None and len(head) + len(title) + len(rest) > limit:
            room = max(1, limit - len(head) - len(rest) - 1)
            title = title[:room].rstrip() + "…"
        return head + title + rest


@dataclass(frozen=True)
class AnswerDetails:
    """On what basis an answer was given (see the module doc).

    Attributes:
        surface: one of :data:`SURFACES`.
        generation: the index generation searched (its directory name), None when not known.
        tier: "answers", "related" or "nothing"; ``missing`` what no passage states (or None).
        filters: the filters in force (``key -> value``); ``as_of`` the cut-off (ISO) or None.
        offset: hits earlier pages showed (a "More results" page has offset > 0).
        hits: the hits shown, best first.
        question_kept: False when the question text and the asker were not stored (``LOG_QUESTIONS`` off).
    """

    surface: str
    generation: str | None
    tier: str
    missing: str | None = None
    filters: dict = field(default_factory=dict)
    as_of: str | None = None
    offset: int = 0
    hits: list[ShownHit] = field(default_factory=list)
    question_kept: bool = True

    @classmethod
    def of(cls, answer: "Answer", hits: list["Hit"], *, surface: str, generation: str | None, offset: int = 0,
           question_kept: bool = True) -> "AnswerDetails":
        """The details of an :class:`~retrieval.search.answer.Answer` whose ``hits`` were shown."""
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)}, got {surface!r}")
        return cls(surface, generation, answer.tier, answer.missing, dict(answer.filters or {}), answer.as_of,
                   offset, [ShownHit.of(h) for h in hits], question_kept)

    def to_dict(self) -> dict:
        """A JSON-ready dict (the ``details`` of ``audit --json``)."""
        return asdict(self)

    def to_json(self) -> str:
        """The JSON text the stores keep."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | dict | None) -> "AnswerDetails | None":
        """The details stored as ``text`` (None for a row written before the audit trail existed)."""
        if not text:
            return None
        d = json.loads(text) if isinstance(text, str) else dict(text)  # PostgreSQL's JSONB comes decoded
        hits = [ShownHit(**h) for h in d.pop("hits", [])]
        return cls(**d, hits=hits)
