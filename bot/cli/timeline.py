"""``bulletin-bot timeline``: an instrument's events through the bulletins, oldest first, one line each.

Registered on :data:`bot.cli.main`. Reads the generation in force with
:func:`retrieval.search.loaded.instruments_in_force` — like ``stats`` it loads no model and checks none, as
a timeline embeds nothing. Rows and names come from :mod:`retrieval.instruments.view`, citations from
:func:`bot.cli.formatting.format_citation`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from retrieval.instruments.view import Row, find, listing, not_found, rows, summary

from .formatting import format_citation
from .options import common_options

#: A quote longer than this is shortened on its line (at a word boundary, ending "…", and saying so).
MAX_QUOTE_CHARS = 300


def format_quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``“the sentence”``, whitespace folded onto one line; longer than ``limit`` characters, cut at a
    word boundary with ``…”`` and followed by ``(quote shortened: N characters in full)``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return f"“{flat}”"
    cut = flat[:limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return f"“{cut.rstrip()}…” (quote shortened: {len(flat)} characters in full)"


def format_row(row: Row, date_width: int = 0) -> str:
    """One line: the date that places the event (padded to ``date_width``), its label(s) joined by
    `` · ``, the quote (:func:`format_quote`) and ``— `` its one-line citation."""
    return (f"{row.placed().ljust(date_width)}  {' · '.join(row.labels)}  {format_quote(row.text)}"
            f"  — {format_citation(row.citation, one_line=True)}")


def format_timeline(instrument, timeline_rows: list[Row]) -> str:
    """The text of ``bulletin-bot timeline NAME``: the instrument's name (and other names), a count line,
    then one :func:`format_row` line per row."""
    other = [*instrument.aliases, *instrument.numbers]
    head = instrument.name + (f" (also: {', '.join(other)})" if other else "")
    width = max((len(r.placed()) for r in timeline_rows), default=0)
    return "\n".join([head, summary(timeline_rows) + ":", "", *(format_row(r, width) for r in timeline_rows)])


def format_listing(known: list[tuple]) -> str:
    """The text of ``bulletin-bot timeline --list``: one line per instrument, its items' count first."""
    if not known:
        return "No instrument is named in the bulletins."
    lines = [f"{len(known)} instruments in the bulletins (items about each, name, key):"]
    lines += [f"  {n:4d}  {inst.name}  [{inst.key}]" for inst, n in known]
    return "\n".join(lines)


@click.command(name="timeline")
@click.argument("instrument", nargs=-1)
@click.option("--list", "list_all", is_flag=True, help="List the instruments the bulletins are about instead.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"instrument": {...}, "events": [...]} (with --list: {"instruments": [...]}).')
@common_options
def timeline_command(instrument: tuple[str, ...], list_all: bool, as_json: bool, data_dir: Path,
                     model: str | None) -> None:
    """Follow INSTRUMENT (a law's name, alias, acronym or official number, e.g. "AI Act", DPF,
    "Regulation (EU) 2016/679") through the bulletins: every event they report, oldest first, each
    with its verbatim sentence and citation. Exits 1 for an unknown name (naming the nearest ones),
    2 when nothing is indexed."""
    from retrieval.search.loaded import instruments_in_force

    name = " ".join(instrument).strip()
    if not list_all and not name:
        raise click.UsageError('name an instrument (e.g. bulletin-bot timeline "AI Act"), or pass --list')
    index = instruments_in_force(data_dir)
    if list_all:
        known = listing(index)
        if as_json:
            click.echo(json.dumps({"instruments": [{**inst.to_dict(), "items": n} for inst, n in known]},
                                  ensure_ascii=False, indent=2))
        else:
            click.echo(format_listing(known))
        return
    key = find(index, name)
    if key is None:
        click.echo(f"error: {not_found(index, name)}", err=True)
        sys.exit(1)
    events = index.events_of(key)
    inst = index.table.instruments[key]
    if as_json:
        click.echo(json.dumps({"instrument": inst.to_dict(), "events": [e.to_dict() for e in events]},
                              ensure_ascii=False, indent=2))
        return
    click.echo(format_timeline(inst, rows(events)))
