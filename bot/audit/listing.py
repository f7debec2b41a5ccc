"""``bulletin-bot audit``: the answers the bot gave, newest first — who, where, when, tier, citations, generation.

:func:`audit_rows` gives the stable JSON schema (:data:`AUDIT_SCHEMA`) printed by ``audit --json``;
:func:`format_audit` the readable table. Times are shown in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.state.protocol import AnswerRecord, Feedback

#: Version of the ``audit --json`` schema: ``{"schema": 1, "answers": [row, …]}``, each row as :func:`audit_row`.
AUDIT_SCHEMA = 1


def parse_when(text: str, *, end: bool = False) -> float:
    """Unix seconds of ``YYYY-MM-DD`` (or an ISO date-time; UTC unless it says otherwise): the day's start,
    or with ``end`` the next day's start (so ``--until 2026-03-03`` includes that whole day).

    Raises:
        ValueError: not an ISO date ("--since must be YYYY-MM-DD…, got …").
    """
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"a date must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if end and len(text.strip()) == 10:
        when += timedelta(days=1)
    return when.timestamp()


def iso(seconds: float) -> str:
    """``2026-03-03T09:14:05Z``: Unix seconds in UTC."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_row(record: AnswerRecord, votes: list[Feedback] | None = None) -> dict:
    """One answer as ``audit --json`` prints it::

        {"id", "created_at" (ISO UTC), "user", "channel", "thread_ts", "question" (null when not kept),
         "question_kept", "surface", "generation", "tier", "missing", "filters", "as_of", "offset",
         "passage_ids", "hits": [{"rank", "citation": {bulletin, publisher, date, section, item_number,
         item_title, paragraph, url, source_file, char_start, char_end, page}, "text", "sha256",
         "best_sentence", "score", "cosine", "answers", "passage_ids", "later"}],
         "votes": [{"user", "vote", "choice", "created_at"}]}

    An answer recorded before the audit trail has ``surface``, ``generation`` and ``tier`` null and no hits.
    """
    d = record.details
    kept = d.question_kept if d is not None else bool(record.query)
    return {
        "id": record.id, "created_at": iso(record.created_at), "user": record.user, "channel": record.channel,
        "thread_ts": record.thread_ts, "question": record.query if kept and record.query else None,
        "question_kept": kept, "surface": d.surface if d else None, "generation": d.generation if d else None,
        "tier": d.tier if d else None, "missing": d.missing if d else None, "filters": d.filters if d else {},
        "as_of": d.as_of if d else None, "offset": d.offset if d else 0, "passage_ids": record.passage_ids,
        "hits": d.to_dict()["hits"] if d else [],
        "votes": [{"user": v.user, "vote": v.vote, "choice": v.choice, "created_at": iso(v.created_at)}
                  for v in votes or []],
    }


def audit_rows(records: list[AnswerRecord], feedback: list[Feedback]) -> dict:
    """``{"schema": AUDIT_SCHEMA, "answers": [audit_row, …]}`` with each answer's votes (the latest per voter)."""
    latest: dict[tuple, Feedback] = {}
    for fb in feedback:  # oldest first: a later vote of the same user replaces an earlier one
        latest[(fb.answer_id, fb.user)] = fb
    by_answer: dict[int | None, list[Feedback]] = {}
    for fb in latest.values():
        by_answer.setdefault(fb.answer_id, []).append(fb)
    return {"schema": AUDIT_SCHEMA, "answers": [audit_row(r, by_answer.get(r.id, [])) for r in records]}


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_audit(rows: dict) -> str:
    """The readable table: one line per answer (when, id, who, where, surface, tier, generation, question),
    then one indented line per citation with the first 12 hex digits of its quote's SHA-256, then the votes."""
    answers = rows["answers"]
    if not answers:
        return "No answers recorded for these filters."
    out = [f"{'when (UTC)':20} {'id':>6}  {'user':11} {'channel':11} {'surface':8} {'tier':8} {'generation':30} question"]
    for a in answers:
        question = f"“{_cut(a['question'], 70)}”" if a["question"] else "(question not kept)"
        out.append(f"{a['created_at']:20} {a['id']:>6}  {a['user'] or '-':11} {a['channel'] or '-':11} "
                   f"{a['surface'] or '-':8} {a['tier'] or '-':8} {a['generation'] or '-':30} {question}")
        if not a["hits"] and a["passage_ids"]:
            out.append(f"{'':6}recorded before the audit trail: passage ids {a['passage_ids']}")
        for h in a["hits"]:
            c = h["citation"]
            where = " · ".join(str(p) for p in (
                _cut(c.get("bulletin") or c.get("source_file") or "?", 48), c.get("date"), c.get("section"),
                f"item {c['item_number']}" if c.get("item_number") is not None else None,
                f"p. {c['page']}" if c.get("page") is not None else None, f"¶{c.get('paragraph')}",
                f"chars {c.get('char_start')}-{c.get('char_end')}") if p)
            out.append(f"{'':6}[{h['rank']}] {where} · sha256 {h['sha256'][:12]}")
        for v in a["votes"]:
            choice = "" if v["choice"] is None else (" · none of these answered" if v["choice"] == 0
                                                      else f" · passage [{v['choice']}] answered")
            out.append(f"{'':6}{'👍' if v['vote'] > 0 else '👎'} {v['user'] or '-'} {v['created_at']}{choice}")
    return "\n".join(out)
