"""``bulletin-bot subscriptions``: list, add and remove channels' digest subscriptions (for operators).

The same rules as ``/bulletin subscribe`` (:mod:`bot.digest.subscriptions`), on the store ``serve`` and
``digest`` use (:func:`bot.state.stores.open_store`). Registered on :data:`bot.cli.main`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .options import common_options


@click.command(name="subscriptions")
@click.option("--channel", help="The channel id (C0123ABCD); without it every channel's subscriptions are listed.")
@click.option("--add", "adds", multiple=True, metavar="TEXT", help="Subscribe the channel to an instrument or topic (repeatable).")
@click.option("--remove", "removes", multiple=True, metavar="TEXT", help="Remove one of the channel's subscriptions (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help='Print [{"channel", "kind", "value", "label", "created_by", "created_at"}] after the changes.')
@common_options
def subscriptions_command(channel: str | None, adds: tuple[str, ...], removes: tuple[str, ...], as_json: bool,
                          data_dir: Path, model: str | None) -> None:
    """List channels' digest subscriptions; with --channel, --add and --remove change them first.

    A text is an instrument when its name, alias or acronym resolves ("PIPL", "DPF"), else a topic
    (new items whose title, section or text has all of its words). Exits 1 when a text is refused.
    """
    from bot.config import Settings
    from bot.digest import subscriptions as subs
    from bot.state.stores import open_store

    if (adds or removes) and not channel:
        raise click.UsageError("--add and --remove need --channel C0123ABCD")
    target = channel or ""  # only used with --add/--remove, which need --channel
    instruments = _instruments(data_dir)
    store = open_store(Settings.from_env(data_dir=data_dir, require_token=False))
    failed = False
    try:
        for verb, texts in (("add", adds), ("remove", removes)):
            for text in texts:
                try:
                    change = (subs.add(store, target, text, None, instruments) if verb == "add"
                              else subs.remove(store, target, text, instruments))
                except (subs.SubscriptionError, ValueError) as exc:  # ValueError: the store's own limits
                    click.echo(f"error: {exc}", err=True)
                    failed = True
                    continue
                click.echo(subs.change_sentence(change, target, instruments, store.subscriptions(target)),
                           err=as_json)
        listed = store.subscriptions(channel)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([{"channel": s.channel, "kind": s.kind, "value": s.value,
                                "label": subs.short_label(s.kind, s.value, instruments), "created_by": s.created_by,
                                "created_at": s.created_at} for s in listed], ensure_ascii=False))
    elif not (adds or removes):
        if not listed:
            click.echo(f"{channel} has no subscriptions: its digest lists every new item." if channel else
                       "No channel has subscriptions: every digest lists every new item.")
        for ch in dict.fromkeys(s.channel for s in listed):
            mine = [s for s in listed if s.channel == ch]
            click.echo(f"{ch}: only the new items matching one of:")
            for line in subs.listing_lines(mine, instruments):
                click.echo(f"  - {line}")
    if failed:
        sys.exit(1)


def _instruments(data_dir: Path):
    """The instruments of the generation in force under ``data_dir``, else the alias table alone."""
    from bot.digest import subscriptions as subs
    from retrieval.errors import IndexMismatchError, IndexNotFoundError
    from retrieval.search.loaded import instruments_in_force

    try:
        return instruments_in_force(data_dir)
    except (IndexNotFoundError, IndexMismatchError):  # nothing indexed (or an empty index): the table alone
        return subs.table_only()
