"""``bulletin-bot audit replay``: re-ask each recorded question on the index generation in force now, and
say what changed since the answer was given.

A replayed answer is *changed* when any of these holds:

- ``tier``: its reply tier is not the one recorded ("answers" → "related"…);
- ``first_citation``: its first hit cites another paragraph (source file, bulletin, date, section, item,
  paragraph — character offsets alone moving, as after an edit above the item, is no change);
- ``quote_gone``: a quote recorded is no longer in its bulletin's text in the generation in force
  (whitespace aside), or the bulletin is no longer indexed;
- ``later``: a hit on an item that was quoted now carries a later development the record did not.

Answers whose question was not kept (``LOG_QUESTIONS`` off) or recorded before the audit trail cannot be
re-asked: they are counted as ``skipped`` (their quotes are still checked against their bulletins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.state.protocol import AnswerRecord
from bot.state.records import AnswerDetails, ShownHit, searched_generation
from retrieval.errors import ConfigurationError
from retrieval.search.searcher import MAX_TOP_K
from retrieval.text import normalise_space

from .listing import iso

#: Hits asked for when the record shows none (a "nothing" answer): enough to see a first citation appear.
MIN_TOP_K = 3


@dataclass
class ReplayResult:
    """What replaying one answer found.

    Attributes:
        answer_id, created_at, question: the record replayed (``question`` None when not kept).
        generation_then, generation_now: the generation the answer was given from, and the one searched now.
        tier_then, tier_now: reply tiers (``tier_now`` None when not re-asked).
        first_then, first_now: the first hits' :meth:`~bot.state.records.ShownHit.label` (None: no hit).
        quotes_gone: labels of the recorded quotes no longer in their bulletin (with what the item reads now,
            when the replayed answer still quotes it).
        later: ``"[rank] when kind (bulletin)"`` of each later development new on a quoted item.
        skipped: why the answer was not re-asked ("question not kept", "recorded before the audit trail"), or None.
        first_changed: the first hit now cites another paragraph than the first hit then.
    """

    answer_id: int
    created_at: float
    question: str | None
    generation_then: str | None
    generation_now: str | None = None
    tier_then: str | None = None
    tier_now: str | None = None
    first_then: str | None = None
    first_now: str | None = None
    quotes_gone: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)
    skipped: str | None = None
    first_changed: bool = False

    @property
    def changes(self) -> list[str]:
        """The kinds of change found: ``tier``, ``first_citation``, ``quote_gone``, ``later`` (see the module doc)."""
        out = []
        if self.tier_now is not None and self.tier_now != self.tier_then:
            out.append("tier")
        if self.first_changed:
            out.append("first_citation")
        if self.quotes_gone:
            out.append("quote_gone")
        if self.later:
            out.append("later")
        return out

    @property
    def changed(self) -> bool:
        """True when anything changed."""
        return bool(self.changes)

    def to_dict(self) -> dict:
        """The JSON row of ``audit replay --json``."""
        return {"answer_id": self.answer_id, "created_at": iso(self.created_at), "question": self.question,
                "generation_then": self.generation_then, "generation_now": self.generation_now,
                "tier_then": self.tier_then, "tier_now": self.tier_now, "first_citation_then": self.first_then,
                "first_citation_now": self.first_now, "quotes_gone": self.quotes_gone,
                "new_later_developments": self.later, "skipped": self.skipped, "changes": self.changes,
                "changed": self.changed}


def _event_keys(hit: ShownHit) -> set[tuple]:
    return {(e.get("when"), e.get("kind"), e.get("source_file")) for e in hit.later}


def quote_in_bulletin(hit: ShownHit, source_text) -> bool:
    """True when the hit's quote (whitespace-normalised) is still in its bulletin's text; ``source_text(file)``
    gives a bulletin's text and raises KeyError for a bulletin no longer indexed."""
    try:
        text = source_text(hit.citation.get("source_file") or "")
    except KeyError:
        return False
    return normalise_space(hit.text) in normalise_space(text)


def replay_one(record: AnswerRecord, searcher, source_text) -> ReplayResult:
    """Replay one answer record on ``searcher`` (the generation in force); ``source_text`` as for
    :func:`quote_in_bulletin`. A question the search refuses now (a :class:`~retrieval.errors.ConfigurationError`:
    a filter it no longer reads) is ``skipped`` with the reason; IndexNotFoundError and the like propagate."""
    d: AnswerDetails | None = record.details
    result = ReplayResult(record.id, record.created_at, record.query or None, d.generation if d else None)
    if d is None:
        result.skipped = "recorded before the audit trail"
        return result
    result.tier_then = d.tier
    result.first_then = d.hits[0].label() if d.hits else None
    result.quotes_gone = [h.label() for h in d.hits if not quote_in_bulletin(h, source_text)]
    if not d.question_kept or not record.query:
        result.skipped = "question not kept"
        return result
    try:
        answer = searcher.search(record.query, top_k=min(MAX_TOP_K, max(MIN_TOP_K, len(d.hits))), offset=d.offset)
    except ConfigurationError as exc:  # a filter this version no longer reads: say so, replay the others
        result.skipped = f"cannot be re-asked: {exc}"
        return result
    result.generation_now = searched_generation(searcher)
    now = [ShownHit.of(h) for h in answer.hits[: max(MIN_TOP_K, len(d.hits))]]
    result.tier_now = answer.tier
    by_item = {h.item_key[:5]: h for h in now}
    for h in d.hits:  # a quote gone: what the same item says now, when it is still quoted
        if h.label() in result.quotes_gone and h.item_key[:5] in by_item:
            reads = " ".join(by_item[h.item_key[:5]].gold.split())
            result.quotes_gone[result.quotes_gone.index(h.label())] = (
                f"{h.label()} — the item now reads: “{reads[:160]}{'…' if len(reads) > 160 else ''}”")
    result.first_now = now[0].label() if now else None
    then_key = d.hits[0].item_key if d.hits else None
    result.first_changed = then_key != (now[0].item_key if now else None)
    then_events = {h.item_key[:5]: _event_keys(h) for h in d.hits}
    for h in now:
        old = then_events.get(h.item_key[:5])
        if old is None:
            continue
        for e in h.later:
            if (e.get("when"), e.get("kind"), e.get("source_file")) not in old:
                result.later.append(f"[{h.rank}] {e.get('when')} {e.get('kind')} ({e.get('bulletin')})")
    return result


def replay(records: list[AnswerRecord], searcher) -> list[ReplayResult]:
    """Replay every record (newest first, as given) on the generation ``searcher`` has in force now."""
    return [replay_one(r, searcher, lambda source_file: searcher.index.source_text(source_file)) for r in records]


def summary_line(results: list[ReplayResult]) -> str:
    """``12 answers, 3 changed`` (plus ``, 2 not re-asked (question not kept)`` when some were skipped)."""
    skipped = [r for r in results if r.skipped]
    line = f"{len(results)} answers, {sum(r.changed for r in results)} changed"
    if skipped:
        reasons = sorted({r.skipped or "" for r in skipped})
        line += f", {len(skipped)} not re-asked ({'; '.join(reasons)})"
    return line


def format_replay(results: list[ReplayResult]) -> str:
    """The readable report: a block per changed answer (what changed, then and now), then :func:`summary_line`."""
    out = []
    for r in results:
        if not r.changed:
            continue
        q = f"“{' '.join(r.question.split())[:80]}”" if r.question else "(question not kept)"
        out.append(f"answer {r.answer_id} {q}: {', '.join(r.changes)}")
        if "tier" in r.changes:
            out.append(f"    tier: {r.tier_then} -> {r.tier_now}")
        if "first_citation" in r.changes:
            out.append(f"    first citation: {r.first_then or '(none)'} -> {r.first_now or '(none)'}")
        for label in r.quotes_gone:
            out.append(f"    quote no longer in its bulletin: {label}")
        for line in r.later:
            out.append(f"    new later development: {line}")
        out.append(f"    generation: {r.generation_then or '?'} -> {r.generation_now or '(not re-asked)'}")
    out.append(summary_line(results))
    return "\n".join(out)
