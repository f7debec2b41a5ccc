"""``bulletin-bot feedback export``: the team's 👍/👎 as eval questions (JSON Lines ``bulletin-bot eval`` reads).

One question per answer that taught something, from the latest vote of each voter (oldest voter first):

- a 👎 with a chosen passage → ``gold`` is that passage's verbatim span (its best sentence, else the quote);
- a 👎 with "none of these" → ``gold`` is "" (the question is unanswerable from the bulletins);
- a 👍 → ``gold`` is the first shown quote's verbatim span;
- a 👎 without a choice says only that the answer was wrong: nothing to export.

A 👎's choice wins over a 👍 on the same answer (it names the passage); among several choices the latest
wins. ``file`` is the gold passage's bulletin file (its name, as in the shipped question sets), ``kind`` is
"feedback". Answers whose question text was not kept (``LOG_QUESTIONS`` off) cannot become questions:
:func:`feedback_questions` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from bot.state.protocol import AnswerRecord, Feedback

KIND = "feedback"


@dataclass(frozen=True)
class ExportCounts:
    """What :func:`feedback_questions` did not export, and why (answers counted once each)."""

    no_question: int = 0
    no_choice: int = 0
    no_record: int = 0


def _line(record: AnswerRecord, fb: Feedback) -> dict | None:
    d = record.details
    hits = {h.rank: h for h in (d.hits if d else [])}
    if fb.vote > 0:
        hit = hits.get(min(hits)) if hits else None
    elif fb.choice == 0:
        return {"id": f"feedback-{record.id}", "file": "", "question": record.query, "gold": "", "kind": KIND}
    else:
        hit = hits.get(fb.choice) if fb.choice is not None else None
    if hit is None:
        return None
    return {"id": f"feedback-{record.id}", "file": PurePath(hit.citation.get("source_file") or "").name,
            "question": record.query, "gold": hit.gold, "kind": KIND}


def feedback_questions(feedback: list[Feedback], answer) -> tuple[list[dict], ExportCounts]:
    """The eval lines taught by ``feedback`` (oldest first, as the stores list it), one per answer, in the
    order the answers were first voted on; ``answer(id)`` is the store's look-up. Returns (lines, counts)."""
    latest: dict[tuple, Feedback] = {}
    for fb in feedback:
        if fb.answer_id is not None:
            latest[(fb.answer_id, fb.user)] = fb
    by_answer: dict[int, list[Feedback]] = {}
    for (answer_id, _), fb in latest.items():
        by_answer.setdefault(answer_id, []).append(fb)
    lines: list[dict] = []
    no_question = no_choice = no_record = 0
    for answer_id, votes in by_answer.items():
        record = answer(answer_id)
        if record is None or record.details is None:
            no_record += 1
            continue
        if not record.query:
            no_question += 1
            continue
        chosen = sorted((v for v in votes if v.vote < 0 and v.choice is not None), key=lambda v: v.created_at)
        ups = [v for v in votes if v.vote > 0]
        best = chosen[-1] if chosen else (ups[-1] if ups else None)
        line = _line(record, best) if best is not None else None
        if line is None:
            no_choice += 1
            continue
        lines.append(line)
    return lines, ExportCounts(no_question, no_choice, no_record)
