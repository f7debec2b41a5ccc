"""How ``bulletin-bot`` prints: answers, citations, the ingest summary, index stats and digest outcomes.

Pure formatting for the commands of :mod:`bot.cli`: answers, citations, ingest reports, stats.
"""

from __future__ import annotations

import textwrap

import click

from retrieval.chunking import Citation
from retrieval.instruments.view import kind_label, placed
from retrieval.search.answer import Answer, Hit

#: How ``ask`` marks each quote, by :meth:`~retrieval.search.answer.Answer.label`.
HIT_MARKS = {"answers": "  (answers)", "related": "  (related)", "far": "  (far)", None: ""}


def format_answer(answer: Answer) -> str:
    """A terminal rendering of an Answer: the filters and the "as of" cut-off in force, each quote
    wrapped, then its citation ("No bulletin is dated up to May 2019." when the cut-off left nothing)."""
    lines = [f"Q: {answer.query}"]
    cutoff = answer.cutoff_line()
    shown = {k: v for k, v in answer.filters.items() if not (cutoff and k == "as_of")}  # the cut-off has its line
    if shown:
        lines.append("filters: " + " ".join(f"{k}:{v}" for k, v in shown.items()))
    if cutoff and not answer.none_dated:  # else the line below says it
        lines.append(cutoff + ".")
    lines.append("")
    if not answer.hits:
        lines.append(answer.headline() + ".")
        return "\n".join(lines)
    lines += [answer.headline() + ":", ""]
    for hit in answer.hits:
        c = hit.citation
        lines.append(f"[{hit.rank}] score {hit.score:.3f}{HIT_MARKS[answer.label(hit)]}")
        quote = textwrap.fill(" ".join(hit.text.split()), width=96, initial_indent="    “", subsequent_indent="     ")
        lines.append(quote + "”")
        if hit.best_sentence and hit.best_sentence != hit.text:
            lines.append("    best sentence: “" + " ".join(hit.best_sentence.split()) + "”")
        lines.append("    — " + format_citation(c))
        lines += format_later(hit)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def format_later(hit: Hit) -> list[str]:
    """The "later developments" mark of a hit (:attr:`retrieval.search.answer.Hit.later`): one line per
    event, newest first — when, what, the verbatim sentence (cut with "…" past 240 characters) and
    where; no lines when nothing later is reported."""
    if not hit.later:
        return []
    out = ["    later developments (reported by later bulletins; the quote above is older):"]
    for e in hit.later:
        text = " ".join(e.text.split())
        text = text if len(text) <= 240 else text[:239].rstrip() + "…"
        out.append(f"      {placed(e)} · {kind_label(e.kind)}: “{text}”")
        out.append("        — " + format_citation(e.citation).replace("\n      ", "\n          "))
    return out


def format_citation(c: Citation, one_line: bool = False) -> str:
    """bulletin · date · section · item N: title · p. N (a PDF's page) · ¶ N, then on the next line (on the
    same one, two spaces on, when ``one_line``) url (file, chars a–b)."""
    parts = [c.bulletin, c.date or "date unknown"]
    if c.section:
        parts.append(c.section)
    if c.item_number is not None:
        parts.append(f"item {c.item_number}" + (f": {c.item_title}" if c.item_title else ""))
    if c.page is not None:
        parts.append(f"p. {c.page}")
    parts.append(f"¶{c.paragraph}")
    tail = f"{c.url}  " if c.url else ""
    if one_line:  # a title or section never breaks the line
        parts = [" ".join(p.split()) for p in parts]
    sep = "  " if one_line else "\n      "
    return " · ".join(parts) + f"{sep}{tail}({c.source_file}, chars {c.char_start}–{c.char_end})"


def echo_ingest_report(report) -> None:
    """Print an ingest report: counts, the bulletins added/updated/removed, passages, warnings and errors (stderr)."""
    rows = [("added", report.added), ("updated", report.updated), ("removed", report.removed), ("unchanged", report.unchanged)]
    click.echo("bulletins: " + ", ".join(f"{len(v)} {k}" for k, v in rows))
    dates = {d["file"]: d for d in getattr(report, "dates", [])}
    for k, v in rows[:3]:
        for name in v:
            d = dates.get(name)
            when = f" (date {d['date']}, from the {d['date_source']})" if d and d["date"] else " (date unknown)" if d else ""
            click.echo(f"  {k}: {name}{when}")
    click.echo(f"passages: {report.passages_added} added, {report.passages_removed} removed, "
               f"{report.passages} in the index ({report.embedded} embedded in this run)")
    if report.generation:
        click.echo(f"index generation: {report.generation}")
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    for e in report.errors:
        where = f"{e['file']}:{e['line']}" if e.get("line") else e["file"]
        click.echo(f"error: {where}: {e['error']}", err=True)


def format_stats(info: dict) -> str:
    """The text of ``bulletin-bot stats``: the generation, the model, the counts, one line per bulletin."""
    lines = [f"index generation {info['generation']} (created {info['created_at']})",
             f"model {info['model']} ({info['dimension']} dimensions)",
             f"{info['passages']} passages from {info['bulletins']} bulletins"]
    lines += [f"  {b['passages']:5d}  {b['date'] or '?':10}  {b['source_file']}" for b in info["per_bulletin"]]
    return "\n".join(lines)


def describe_outcome(o) -> str:
    """What one digest run did for one (channel, day), in words (see :class:`bot.digest.post.DigestOutcome`)."""
    return {"posted": f"posted {o.posted} message(s)", "empty": "nothing new, nothing posted",
            "done": "already posted, not posted again", "busy": "another process is posting it",
            "lost": "another process took it over", "failed": f"failed: {o.error} (retried at the next run)"}[o.status]
