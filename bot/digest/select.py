"""Which bulletins are new for a channel: the first passage of each item of the bulletins a digest did not know
(and, for a channel with subscriptions, of the items matching them: :func:`matching`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from retrieval.chunking import Passage
from retrieval.index.generations import BulletinRecord


@dataclass(frozen=True)
class NewBulletin:
    """A bulletin new to a channel and its items.

    Attributes:
        bulletin: the indexed bulletin.
        items: the first passage of each item, in reading order (sections in order, items in order).
    """

    bulletin: BulletinRecord
    items: tuple[Passage, ...]


def bulletin_key(bulletin: BulletinRecord) -> str:
    """``source_file:fingerprint``: what a digest remembers of each bulletin it knew."""
    return f"{bulletin.source_file}:{bulletin.fingerprint}"


def parse_instant(text: str) -> datetime:
    """An ISO timestamp (``ingested_at``, a stored window bound) as an aware datetime (naive = UTC)."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


# -- what is new --------------------------------------------------------------------------------
def item_groups(passages: Iterable[Passage]) -> list[list[Passage]]:
    """The passages of each item, in reading order (each item's passages in order too).

    An item is a numbered entry of a section (same section, number and title). A section without
    numbered items counts as one item (all its passages); text before the first section and outside
    any item (a bulletin's preamble) is not an item.
    """
    ordered = sorted(passages, key=lambda p: p.citation.char_start)
    numbered = {p.citation.section for p in ordered if p.citation.item_number is not None}
    groups: dict[tuple, list[Passage]] = {}
    for p in ordered:
        c = p.citation
        if c.item_number is not None:
            key: tuple = ("item", c.section, c.item_number, c.item_title)
        elif c.section and c.section not in numbered:
            key = ("section", c.section)
        else:
            continue
        groups.setdefault(key, []).append(p)
    return list(groups.values())


def item_passages(passages: Iterable[Passage]) -> list[Passage]:
    """The first passage of each item (:func:`item_groups`), in reading order."""
    return [group[0] for group in item_groups(passages)]


def new_bulletins(index, *, known: set[str] | None = None, since: datetime | None = None) -> list[NewBulletin]:
    """The bulletins of ``index`` that are new, with their items, oldest ingest first.

    Args:
        index: a :class:`~retrieval.index.passages.PassageIndex` (the generation in force).
        known: keys (:func:`bulletin_key`) of bulletins already listed; those are left out.
        since: when given, only bulletins whose ``ingested_at`` is at or after it.

    Bulletins without any item are left out.
    """
    out = []
    for b in index.bulletins():
        if known is not None and bulletin_key(b) in known:
            continue
        if since is not None and parse_instant(b.ingested_at) < since:
            continue
        items = item_passages(index.iter_passages(b.source_file))
        if items:
            out.append(NewBulletin(b, tuple(items)))
    return out


def matching(index, fresh: Sequence[NewBulletin], keep: Callable[[Sequence[Passage]], bool]) -> list[NewBulletin]:
    """The new bulletins with only the items ``keep`` accepts (it is given every passage of an item);
    bulletins left without any item are left out. The order is kept."""
    out = []
    for nb in fresh:
        firsts = {p.id for p in nb.items}
        kept = tuple(g[0] for g in item_groups(index.iter_passages(nb.bulletin.source_file))
                     if g[0].id in firsts and keep(g))
        if kept:
            out.append(NewBulletin(nb.bulletin, kept))
    return out
