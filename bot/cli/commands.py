"""The core commands of ``bulletin-bot``: ``ingest``, ``ask``, ``stats``, ``serve``, ``digest``, ``doctor``.

A thin click layer over ``retrieval`` and ``bot``; :mod:`bot.cli` puts them on the group. Every expected
failure becomes one sentence on stderr and a non-zero exit, never a traceback (:func:`~bot.cli.options.common_options`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import options
from .formatting import describe_outcome, echo_ingest_report, format_answer, format_stats
from .options import common_options

DEFAULT_CORPUS = "corpus"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Re-embed every bulletin instead of reusing stored vectors.")
@click.option("--allow-empty", is_flag=True,
              help="Write the index even when it would hold no bulletin (default: refuse, keep the index in force).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--watch", is_flag=True, help="Watch the inbox folder and ingest files dropped there, until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="With --watch: seconds between looks at the inbox (a file must be unchanged for one).")
@click.option("--inbox", "inbox_dir", type=click.Path(file_okay=False, path_type=Path), envvar="BULLETIN_BOT_INBOX_DIR",
              show_envvar=True, default=None, help="With --watch: the folder watched (default DATA_DIR/inbox).")
@common_options
def ingest(paths: tuple[Path, ...], rebuild: bool, allow_empty: bool, as_json: bool, watch: bool, interval: float,
           inbox_dir: Path | None, data_dir: Path, model: str | None) -> None:
    """Index the bulletins under PATHS (default: corpus/). Unchanged bulletins are not re-embedded.

    With --watch, ingest the files dropped into the inbox folder instead, until Ctrl-C."""
    from retrieval.ingest import ingest as run_ingest

    if watch:
        _watch_inbox(inbox_dir or Path(data_dir) / "inbox", data_dir, model, interval)
        return

    from bot.config import IngestSettings

    limits = IngestSettings.from_env()
    targets = list(paths) or [Path(DEFAULT_CORPUS)]
    missing = [str(p) for p in targets if not p.exists()]
    encoder = options.make_encoder(model, data_dir)
    report = run_ingest(targets, data_dir, encoder, rebuild=rebuild, allow_empty=allow_empty,
                        show_progress=not as_json and sys.stderr.isatty(),
                        **limits.ingest_limits())
    for m in missing:
        if not any(e["file"] == m for e in report.errors):
            report.errors.append({"file": m, "error": "no such file or directory", "line": None})
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        echo_ingest_report(report)
    if report.refused:
        click.echo(f"error: {report.refused}", err=True)
        sys.exit(1)
    if report.errors and not (report.added or report.updated or report.unchanged):
        sys.exit(1)


def _watch_inbox(folder: Path, data_dir: Path, model: str | None, interval: float) -> None:
    """Poll the inbox (bot/server/inbox.py) and ingest what is dropped there; one line per ingest; Ctrl-C stops."""
    from bot.config import IngestSettings
    from bot.server.inbox import watch
    from retrieval.ingest import ingest as run_ingest

    limits = IngestSettings.from_env().ingest_limits()
    encoder = options.make_encoder(model, data_dir)
    watch(folder, lambda files: run_ingest(files, data_dir, encoder, **limits), interval, click.echo)


@click.command()
@click.argument("question")
@click.option("--top-k", type=click.IntRange(1, 50), default=3, show_default=True, help="How many passages to quote.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--section", help="Only items whose section contains this text (also: section:TEXT in the question).")
@click.option("--since", help="Only bulletins dated on or after YYYY[-MM[-DD]] (also: since:DATE).")
@click.option("--until", help="Only bulletins dated on or before YYYY[-MM[-DD]] (also: until:DATE).")
@click.option("--as-of", "as_of", help="Answer as of YYYY[-MM[-DD]]: only bulletins dated up to then, and the answer "
              "says so (also: as_of:DATE, or \"as of June 2024\" in the question).")
@click.option("--bulletin", help="Only bulletins whose title or file name contains this text (also: bulletin:NAME).")
@click.option("--publisher", help="Only bulletins whose publisher contains this text (also: publisher:NAME).")
@click.option("--log", "log_answer", is_flag=True, help="Record the answer in the audit trail, as the bot does in Slack "
              "(the question text only with LOG_QUESTIONS=true); see `bulletin-bot audit`.")
@common_options
def ask(question: str, top_k: int, as_json: bool, section: str | None, since: str | None, until: str | None,
        as_of: str | None, bulletin: str | None, publisher: str | None, log_answer: bool, data_dir: Path,
        model: str | None) -> None:
    """Quote the passages that best answer QUESTION, with their citations."""

    filters = {"section": section, "since": since, "until": until, "as_of": as_of, "bulletin": bulletin,
               "publisher": publisher}
    if not question.strip():
        click.echo('error: the question is empty; ask e.g. bulletin-bot ask "what fine did the school in Nantong get"', err=True)
        sys.exit(1)
    searcher = options.make_searcher(data_dir, model)
    answer = searcher.search(question, top_k=top_k, filters={k: v for k, v in filters.items() if v})
    if log_answer:
        _log_answer(data_dir, searcher, question, answer)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(format_answer(answer))


def _log_answer(data_dir: Path, searcher, question: str, answer) -> None:
    """Record a CLI answer (surface "cli") in the store ``serve`` uses; the question only with LOG_QUESTIONS."""
    from bot.config import Settings
    from bot.state.records import AnswerDetails, searched_generation
    from bot.state.stores import open_store

    settings = Settings.from_env(data_dir=data_dir, require_token=False)
    kept = settings.log_questions
    details = AnswerDetails.of(answer, answer.hits, surface="cli", generation=searched_generation(searcher),
                               question_kept=kept)
    store = open_store(settings)
    try:
        ids = [int(i) for h in answer.hits for i in (h.passage_ids or (h.passage.id,))]
        answer_id = store.record_answer(question if kept else "", ids, None, None, None, details=details)
    finally:
        store.close()
    click.echo(f"(recorded as answer {answer_id})", err=True)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@common_options
def stats(as_json: bool, data_dir: Path, model: str | None) -> None:
    """Show the index generation in force: bulletins, passages, model. Loads no model."""
    from retrieval.index.passages import PassageIndex

    index = PassageIndex.load(data_dir)
    per_bulletin = {k: len(v) for k, v in index.passage_ids_by_bulletin().items()}
    bulletins = index.bulletins()
    info = {
        "generation": index.generation, "model": index.model, "dimension": index.dimension,
        "passages": len(index), "bulletins": len(bulletins), "created_at": index.manifest.get("created_at"),
        "corpus_fingerprint": index.manifest.get("corpus_fingerprint"),
        "per_bulletin": [{"source_file": b.source_file, "title": b.title, "date": b.date,
                          "passages": per_bulletin.get(b.source_file, 0), "ingested_at": b.ingested_at} for b in bulletins],
    }
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(format_stats(info))


@click.command()
@click.option("--http", "http_mode", is_flag=True, help="Serve the Events API over HTTP instead of Socket Mode.")
@click.option("--host", default=None, help="Address to listen on [default: BULLETIN_BOT_HTTP_HOST or 0.0.0.0].")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port of /slack/events (HTTP mode) and /healthz, /readyz [default: BULLETIN_BOT_HTTP_PORT or 3000].")
@common_options
def serve(http_mode: bool, host: str | None, port: int | None, data_dir: Path, model: str | None) -> None:
    """Answer in Slack. Socket Mode when SLACK_APP_TOKEN is set; --http serves /slack/events.
    Both serve GET /healthz and GET /readyz."""
    from bot.config import Settings
    from bot.server.serve import serve_forever
    from retrieval.search.searcher import Searcher

    settings = Settings.from_env(data_dir=data_dir, http_host=host, http_port=port)
    if http_mode:
        settings.require_signing_secret()
    elif not settings.socket_mode:
        raise click.UsageError("set SLACK_APP_TOKEN for Socket Mode, or pass --http (with SLACK_SIGNING_SECRET)")
    # Loaded by serve_forever once the HTTP server listens (so /healthz answers while the model loads).
    searcher = Searcher(data_dir, options.make_encoder(model, data_dir), faiss_threads=settings.faiss_threads)
    serve_forever(settings, searcher, http=http_mode,
                  on_listening=lambda server: click.echo(
                      f"listening on http://{server.server_address[0]}:{server.server_port} (loading the model and index…)",
                      err=True))


@click.command()
@click.option("--channel", "channels", multiple=True, metavar="C",
              help="Channel id to post to (repeatable; default: DIGEST_CHANNELS).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="List bulletins ingested since this date (in DIGEST_TZ) instead of since the channel's last digest.")
@click.option("--dry-run", is_flag=True, help='Post nothing; print {"channel", "messages": [{"text", "blocks"}]} per channel.')
@common_options
def digest(channels: tuple[str, ...], since, dry_run: bool, data_dir: Path, model: str | None) -> None:
    """Post today's digest of new bulletin items to each channel, once per channel and day (for cron)."""
    from bot.config import Settings
    from bot.digest.runner import run_digest_job

    settings = Settings.from_env(data_dir=data_dir, require_token=not dry_run)
    targets = list(dict.fromkeys(channels)) or list(settings.digest_channels)
    if not targets:
        raise click.UsageError("no channel: pass --channel C0123ABCD or set DIGEST_CHANNELS")
    outcomes = run_digest_job(settings, data_dir, targets, since=since, dry_run=dry_run,
                              on_preview=lambda preview: click.echo(json.dumps(preview, ensure_ascii=False)))
    for o in outcomes:
        click.echo(f"{o.channel} {o.day}: {describe_outcome(o)}", err=o.status == "failed")
    if any(o.status == "failed" for o in outcomes):
        sys.exit(1)


@click.command()
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), default="manifest.yml",
              show_default=True, help="The Slack app manifest whose bot scopes the token must have.")
@click.option("--json", "as_json", is_flag=True, help='Print [{"name", "status", "detail", "fix"}].')
@common_options
def doctor(manifest: Path, as_json: bool, data_dir: Path, model: str | None) -> None:
    """Check the configuration, the Slack token and its scopes, the index and the model; print what
    to fix for each failure. Exits 1 when a check fails."""
    from bot import doctor as checks_module
    from bot.config import LogSettings

    checks = checks_module.run_checks(data_dir=data_dir, manifest=manifest,
                                      encoder_factory=lambda: options.make_encoder(model, data_dir))
    checks = checks_module.redacted(checks, LogSettings.from_env().secrets)
    click.echo(checks_module.format_report(checks, as_json=as_json))
    if checks_module.failed(checks):
        sys.exit(1)

