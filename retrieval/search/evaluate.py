"""Retrieval quality on a question set: hit@k, MRR@10 and abstention rates.

The question set is JSON Lines, one object a line: ``id``, ``file`` (the bulletin file the answer
is in), ``question``, ``gold`` (a verbatim substring of the answering passage; empty when no
bulletin answers the question) and ``kind`` (fact, number, date, who, paraphrase, multi-hop,
unanswerable, ...). A question is answered at rank r when its gold text, whitespace-normalised,
lies inside the r-th returned passage (also whitespace-normalised).

Metrics (answerable questions only, unless stated):
    hit@k                 share answered within the first k hits
    mrr@10                mean of 1/r for the first answering rank r <= 10 (0 when none)
    abstain_unanswerable  share of unanswerable questions (near-miss and off-topic) not in the "answers" tier
    refused_near_miss     share of unanswerable near-misses (topic in the corpus, asked fact not) not in "answers"
    refused_offtopic      share of off-topic questions (kind "offtopic") not in "answers"
    abstain_answerable    share of answerable questions that wrongly lost the "answers" tier
    quoted_chars          mean characters quoted per hit, over every hit of every question (a longer
                          quote must never pass for a better one)
    invariant_violations  questions whose answer breaks a reply invariant (retrieval.search.tier), when checked
    tiers                 how many questions got each tier (answers, related, nothing)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from retrieval.errors import ConfigurationError
from retrieval.text import normalise_space

from .answer import Answer


@dataclass(frozen=True)
class Question:
    """One line of a question set."""

    id: str
    file: str
    question: str
    gold: str
    kind: str
    line: int | None = None

    @property
    def answerable(self) -> bool:
        """False when the gold text is empty: no bulletin answers the question."""
        return bool(self.gold.strip())


@dataclass(frozen=True)
class QuestionResult:
    """The outcome for one question: first answering rank (None if not in the hits), whether it abstained."""

    question: Question
    rank: int | None
    abstained: bool
    top_score: float | None
    tier: str = ""
    quoted_chars: tuple[int, ...] = ()
    missing: str | None = None
    top_citation: str | None = None
    violations: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """One question's line of ``eval --json``: id, kind, tier, missing, the gold's rank, the top citation."""
        return {"id": self.question.id, "kind": self.question.kind, "answerable": self.question.answerable,
                "tier": self.tier, "missing": self.missing, "gold_rank": self.rank, "top_citation": self.top_citation,
                "violations": list(self.violations)}


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSON Lines question set.

    Raises:
        ConfigurationError: a line that is not JSON or lacks ``question`` (names file and line).
    """
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path}: not UTF-8 text") from None
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError as exc:
            raise ConfigurationError(f"{path}:{line_no}: not a question line ({exc})") from None
        if not isinstance(d, dict) or not isinstance(d.get("question"), str) or not d["question"].strip():
            raise ConfigurationError(f"{path}:{line_no}: not a question line (needs an object with a non-empty \"question\")")
        if not isinstance(d.get("gold") or "", str):
            raise ConfigurationError(f"{path}:{line_no}: \"gold\" must be text or empty, got {d['gold']!r}")
        out.append(Question(str(d.get("id", line_no)), str(d.get("file") or ""), d["question"],
                            d.get("gold") or "", str(d.get("kind") or "unknown"), line_no))
    if not out:
        raise ConfigurationError(f"{path}: no questions found")
    return out


#: The parts :func:`split_part` puts a question in: a tuning two-thirds and a check third.
PARTS = ("tune", "check")


def split_part(question_id: str) -> str:
    """"check" for about a third of the question ids, "tune" for the rest: deterministic, from the id alone.

    ``sha256(id) mod 3 == 0`` is the check third. Rules and thresholds are shaped on the tuning part
    (and on other sets); the check part is only ever measured as a whole, once at the start and once
    at the end, never read question by question (``eval --part check`` prints no per-question lines).
    """
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return "check" if int.from_bytes(digest, "big") % 3 == 0 else "tune"


def select_part(questions: list[Question], part: str | None) -> list[Question]:
    """The questions of one part ("tune" or "check"); all of them when part is None or "all".

    Raises:
        ConfigurationError: an unknown part.
    """
    if part in (None, "all"):
        return list(questions)
    if part not in PARTS:
        raise ConfigurationError(f"part must be one of {', '.join(('all',) + PARTS)}, got {part!r}")
    return [q for q in questions if split_part(q.id) == part]


def answer_rank(gold: str, answer: Answer) -> int | None:
    """1-based rank of the first hit containing gold (whitespace-normalised), or None."""
    target = normalise_space(gold)
    for i, hit in enumerate(answer.hits, start=1):
        if target in normalise_space(hit.text):
            return i
    return None


def evaluate(questions: list[Question], search: Callable[[str], Answer],
             check: Callable[[Answer], list[str]] | None = None) -> list[QuestionResult]:
    """Run every question through ``search`` (query -> Answer) and record rank and abstention, and
    the reply invariants each answer breaks when ``check`` (answer -> sentences) is given."""
    results = []
    for q in questions:
        try:
            answer = search(q.question)
        except ConfigurationError as exc:
            raise ConfigurationError(f"question {q.id} (line {q.line}): {exc}") from None
        rank = answer_rank(q.gold, answer) if q.answerable else None
        top = answer.hits[0].score if answer.hits else None
        results.append(QuestionResult(q, rank, not answer.answered, top, answer.tier,
                                      tuple(len(h.text) for h in answer.hits), answer.missing,
                                      _cite(answer.hits[0].citation) if answer.hits else None,
                                      tuple(check(answer)) if check else ()))
    return results


def _cite(c) -> str:
    """A citation in one line: file, item number and paragraph ("china-….txt item 3 ¶2")."""
    item = f" item {c.item_number}" if c.item_number is not None else ""
    return f"{c.source_file}{item} ¶{c.paragraph}"


def summarise(results: list[QuestionResult]) -> dict:
    """The figures printed by ``bulletin-bot eval --json``, plus a per-kind breakdown under ``by_kind``."""

    def block(rs: list[QuestionResult]) -> dict:
        answerable = [r for r in rs if r.question.answerable]
        unanswerable = [r for r in rs if not r.question.answerable]
        offtopic = [r for r in unanswerable if r.question.kind == "offtopic"]
        near_miss = [r for r in unanswerable if r.question.kind != "offtopic"]
        n = len(answerable)
        chars = [c for r in rs for c in r.quoted_chars]

        def share(group: list[QuestionResult]) -> float | None:
            return round(sum(r.abstained for r in group) / len(group), 4) if group else None

        def hit(k: int) -> float | None:
            return round(sum(1 for r in answerable if r.rank is not None and r.rank <= k) / n, 4) if n else None

        return {
            "n": len(rs),
            "hit@1": hit(1), "hit@3": hit(3), "hit@5": hit(5),
            "mrr@10": round(sum(1 / r.rank for r in answerable if r.rank and r.rank <= 10) / n, 4) if n else None,
            "abstain_unanswerable": share(unanswerable),
            "refused_near_miss": share(near_miss),
            "refused_offtopic": share(offtopic),
            "abstain_answerable": share(answerable),
            "quoted_chars": round(sum(chars) / len(chars), 1) if chars else None,
            "tiers": {t: sum(1 for r in rs if r.tier == t) for t in ("answers", "related", "nothing")},
            "invariant_violations": sum(1 for r in rs if r.violations),
        }

    out = block(results)
    kinds = sorted({r.question.kind for r in results})
    out["by_kind"] = {k: block([r for r in results if r.question.kind == k]) for k in kinds}
    return out
