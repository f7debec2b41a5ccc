"""``bulletin-bot audit``, ``audit replay`` and ``feedback export``: what the bot told whom, from which
index generation, what a newer bulletin changes, and the team's votes as eval questions.

Read the store ``serve`` writes (:func:`bot.state.stores.open_store`: ``DATA_DIR/bot.sqlite`` or
``BULLETIN_BOT_DATABASE_URL``); the reports themselves are :mod:`bot.audit`. Registered on :data:`bot.cli.main`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import options
from .options import common_options


def _when(value: str | None, name: str, end: bool = False) -> float | None:
    from bot.audit import parse_when

    if value is None:
        return None
    try:
        return parse_when(value, end=end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


def _inherited(name: str, value):
    """``value`` of the running subcommand's option ``name``, or the ``audit`` group's when only the group was
    given it (``audit --data-dir D --since X replay`` means what ``audit replay --data-dir D --since X`` does)."""
    ctx = click.get_current_context()
    parent = ctx.parent
    if parent is None or name not in parent.params or ctx.get_parameter_source(name) not in (
            click.core.ParameterSource.DEFAULT, None):
        return value
    if parent.get_parameter_source(name) in (click.core.ParameterSource.DEFAULT, None):
        return value
    return parent.params[name]


def _store(data_dir: Path):
    from bot.config import Settings
    from bot.state.stores import open_store

    return open_store(Settings.from_env(data_dir=data_dir, require_token=False))


@click.group(name="audit", invoke_without_command=True)
@click.option("--since", help="Answers given on or after this day (YYYY-MM-DD, UTC) or time (YYYY-MM-DDTHH:MM).")
@click.option("--until", help="Answers given up to the end of this day (YYYY-MM-DD, UTC), or before this time.")
@click.option("--user", help="Answers to this Slack user id (U0123ABCD).")
@click.option("--channel", help="Answers given in this channel id (C0123ABCD, D… for a DM).")
@click.option("--json", "as_json", is_flag=True, help='Print {"schema": 1, "answers": [...]} (see README, "Audit trail").')
@common_options
@click.pass_context
def audit_command(ctx: click.Context, since: str | None, until: str | None, user: str | None, channel: str | None,
                  as_json: bool, data_dir: Path, model: str | None) -> None:
    """The answers the bot gave, newest first: who, where, when, the reply tier, the citations (with
    each quote's SHA-256) and the index generation they came from, with the votes on them."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.audit import audit_rows, format_audit

    start, end = _when(since, "--since"), _when(until, "--until", end=True)
    store = _store(data_dir)
    try:
        rows = audit_rows(store.answers(since=start, until=end, user=user, channel=channel), store.feedback(since=start))
    finally:
        store.close()
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2) if as_json else format_audit(rows))


@audit_command.command(name="replay")
@click.option("--since", help="Replay the answers given on or after this day (YYYY-MM-DD, UTC).")
@click.option("--json", "as_json", is_flag=True, help='Print {"answers": [...], "summary": {...}}.')
@common_options
def replay_command(since: str | None, as_json: bool, data_dir: Path, model: str | None) -> None:
    """Re-ask each recorded question on the index generation in force now and report what changed: the
    tier, the first citation, a quote no longer in its bulletin, a new later development on a quoted
    item. Ends with "N answers, M changed"; exits 0 whatever changed."""
    from bot.audit import format_replay, replay, summary_line

    data_dir, model, since = _inherited("data_dir", data_dir), _inherited("model", model), _inherited("since", since)
    as_json = _inherited("as_json", as_json)
    store = _store(data_dir)
    try:
        records = store.answers(since=_when(since, "--since"))
    finally:
        store.close()
    results = replay(records, options.make_searcher(data_dir, model)) if records else []
    if as_json:
        click.echo(json.dumps({"answers": [r.to_dict() for r in results],
                               "summary": {"answers": len(results), "changed": sum(r.changed for r in results),
                                           "skipped": sum(bool(r.skipped) for r in results),
                                           "line": summary_line(results)}}, ensure_ascii=False, indent=2))
        return
    click.echo(format_replay(results))


@click.group(name="feedback")
def feedback_group() -> None:
    """The team's 👍/👎 on the bot's answers."""


@feedback_group.command(name="export")
@click.option("--since", help="Votes cast on or after this day (YYYY-MM-DD, UTC).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON lines to this file (default: standard output).")
@common_options
def export_command(since: str | None, output: Path | None, data_dir: Path, model: str | None) -> None:
    """Write the votes as eval questions, one JSON object a line (id, file, question, gold, kind
    "feedback"), for `bulletin-bot eval`: a 👎's chosen passage or a 👍's first quote is the gold; a 👎
    with "none of these" an unanswerable question. What could not be exported is said on stderr."""
    from bot.audit import feedback_questions

    store = _store(data_dir)
    try:
        lines, counts = feedback_questions(store.feedback(since=_when(since, "--since")), store.answer)
    finally:
        store.close()
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    notes = [f"{len(lines)} questions exported"]
    if counts.no_question:
        notes.append(f"{counts.no_question} answers skipped: their question was not kept (LOG_QUESTIONS off)")
    if counts.no_choice:
        notes.append(f"{counts.no_choice} skipped: 👎 without a chosen passage")
    if counts.no_record:
        notes.append(f"{counts.no_record} skipped: recorded before the audit trail")
    click.echo("; ".join(notes), err=True)
