"""Runs the digest for channels: what the scheduler in ``serve`` and ``bulletin-bot digest`` call."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from bot.state.protocol import StateStore
from retrieval.errors import IndexNotFoundError
from retrieval.instruments.timeline import InstrumentIndex
from retrieval.search.loaded import generation_instruments

from .post import CLAIM_HOLD_SECONDS, DigestBuild, DigestOutcome, Spacer, post_digest
from .render import build_digest
from .select import bulletin_key, matching, new_bulletins, parse_instant
from .subscriptions import MAX_LABELS_SHOWN, SubscriptionFilter, labels, short_label

if TYPE_CHECKING:
    from retrieval.index.passages import PassageIndex

log = logging.getLogger("bot.digest")


@dataclass
class DigestRunner:
    """Runs the digest for channels: what the scheduler in ``serve`` and ``bulletin-bot digest`` call.

    Args:
        store: the :class:`~bot.state.protocol.StateStore`.
        client: a ``slack_sdk.WebClient`` (None is fine for :meth:`preview`).
        index_source: returns the index generation in force (``lambda: searcher.index`` in ``serve``,
            so a bulletin ingested while serving is seen; raises IndexNotFoundError before any ingest).
        tz: the digest time zone (the digest date is ``now`` there).
        first_days: a channel's first digest covers bulletins ingested in the last N days.
        post_empty: post "Nothing new" rather than skip a day.
        spacer: spaces posts to one channel (inject a recording sleep in tests).

    A channel with subscriptions (:meth:`~bot.state.protocol.StateStore.subscriptions`) gets only the new items
    matching one of them (:mod:`bot.digest.subscriptions`), and its header says what it was filtered on. When
    new bulletins came but none of their items matched, nothing is posted that day (unless
    ``post_empty``) and the bulletins still count as known: the next digest does not list them.
    """

    store: StateStore
    client: object
    index_source: Callable[[], PassageIndex]
    tz: tzinfo = timezone.utc
    first_days: int = 7
    post_empty: bool = False
    spacer: Spacer = field(default_factory=Spacer)
    hold_seconds: float = CLAIM_HOLD_SECONDS
    _instrument_cache: tuple[str, InstrumentIndex] | None = field(default=None, init=False, repr=False)

    def day(self, now: datetime) -> str:
        """The digest date for ``now``: ``YYYY-MM-DD`` in the digest time zone."""
        return now.astimezone(self.tz).date().isoformat()

    def build(self, channel: str, now: datetime, since: datetime | None = None) -> DigestBuild:
        """The digest ``channel`` would get at ``now`` (reads the store and the index, writes nothing).

        ``since`` overrides the window: bulletins ingested since then, whatever the channel was shown.
        """
        known: set[str] | None = None
        if since is None:
            last = self.store.last_built_digest(channel)
            if last is not None and last.known is not None:
                known = set(last.known)
                since = parse_instant(last.until) if last.until else None
            else:
                since = now - timedelta(days=self.first_days)
        try:
            index = self.index_source()
        except IndexNotFoundError:
            log.info("digest for %s: nothing indexed yet", channel)
            return DigestBuild(since, now, sorted(known or ()), build_digest(
                [], day=self.day(now), since=since, tz=self.tz, post_empty=self.post_empty))
        fresh = new_bulletins(index, known=known, since=since if known is None else None)
        keys = sorted(bulletin_key(b) for b in index.bulletins())
        subs = self.store.subscriptions(channel)
        if not subs:
            messages = build_digest(fresh, day=self.day(now), since=since, tz=self.tz, post_empty=self.post_empty)
            return DigestBuild(since, now, keys, messages, sum(len(nb.items) for nb in fresh))
        instruments = self._instruments(index)
        shown = matching(index, fresh, SubscriptionFilter.of(subs, instruments).matches)
        total, kept = sum(len(nb.items) for nb in fresh), sum(len(nb.items) for nb in shown)
        on = labels(subs, instruments, MAX_LABELS_SHOWN)
        if total and not kept:  # the bulletins still count as known: the next digest does not list them again
            log.info("digest for %s: %d new item(s), none matching its subscriptions (%s); nothing to post",
                     channel, total, on)
        else:
            log.info("digest for %s: %d of %d new item(s) match its subscriptions (%s)", channel, kept, total, on)
        messages = build_digest(shown, day=self.day(now), since=since, tz=self.tz, post_empty=self.post_empty,
                                filtered_on=on, unfiltered=total)
        return DigestBuild(since, now, keys, messages, kept,
                           tuple(short_label(s.kind, s.value, instruments) for s in subs), total)

    def _instruments(self, index) -> InstrumentIndex:
        """The instruments of ``index``'s generation, read once per generation."""
        key = str(getattr(index, "path", id(index)))
        cached = self._instrument_cache
        if cached is None or cached[0] != key:
            cached = self._instrument_cache = (key, generation_instruments(index))
        return cached[1]

    def preview(self, channel: str, now: datetime, since: datetime | None = None) -> dict:
        """``{"channel", "messages": [{"text", "blocks"}]}``: what would be posted (``--dry-run``); for a
        channel with subscriptions also ``"subscriptions"`` (their short labels), ``"new_items"`` (before
        the filter) and ``"matching_items"``."""
        built = self.build(channel, now, since)
        out: dict = {"channel": channel, "messages": built.messages}
        if built.subscriptions:
            out.update(subscriptions=list(built.subscriptions), new_items=built.new_items, matching_items=built.items)
        return out

    def run(self, channels: Iterable[str], now: datetime, since: datetime | None = None,
            resume_only: bool = False) -> list[DigestOutcome]:
        """For each channel: finish earlier digests that failed (oldest first), then post today's.

        With ``resume_only`` (the scheduler's periodic retry), today's digest is not started, only
        resumed when an earlier attempt failed. A channel whose earlier digest still fails gets no new
        one in this run. Returns one :class:`DigestOutcome` per (channel, day) attempted.
        """
        today = self.day(now)
        out: list[DigestOutcome] = []
        for channel in channels:
            blocked = False
            for rec in self.store.digests(channel):
                if rec.state == "done" or rec.messages is None or rec.day == today:
                    continue
                result = post_digest(self.client, self.store, channel, rec.day, _never, now=now,
                                     spacer=self.spacer, hold_seconds=self.hold_seconds)
                out.append(result)
                blocked = blocked or result.status in ("failed", "busy", "lost")
            if blocked:
                continue
            existing = self.store.digest(channel, today)
            if resume_only and (existing is None or existing.state == "done"):
                continue
            out.append(post_digest(self.client, self.store, channel, today, functools.partial(self.build, channel, now, since),
                                   now=now, spacer=self.spacer, hold_seconds=self.hold_seconds))
        return out


def _never() -> DigestBuild:
    raise AssertionError("a digest being resumed has its messages stored")


def run_digest_job(settings, data_dir, channels: Sequence[str], *, since: datetime | None = None,
                   dry_run: bool = False, now: datetime | None = None,
                   on_preview: Callable[[dict], None] | None = None) -> list[DigestOutcome]:
    """The ``bulletin-bot digest`` job: post (or, with ``dry_run``, preview) today's digest to ``channels``.

    Opens the store (:func:`bot.state.stores.open_store`) and, when needed, the index generation in force
    under ``data_dir``, and closes both. ``since`` (naive: in ``DIGEST_TZ``) overrides each channel's
    window. Returns the :class:`DigestOutcome` of each (channel, day) attempted. With ``dry_run``
    nothing is posted (no Slack client is made): each channel's ``{"channel", "messages"}`` preview
    goes to ``on_preview`` as soon as it is built, and the result is empty.
    """
    from zoneinfo import ZoneInfo

    from bot.slack.app import make_client
    from bot.state.stores import open_store
    from retrieval.index.passages import PassageIndex

    tz = ZoneInfo(settings.digest_tz)
    now = now or datetime.now(timezone.utc)
    since = since.replace(tzinfo=tz) if since is not None and since.tzinfo is None else since
    loaded: list[PassageIndex] = []

    def index_source() -> PassageIndex:
        if not loaded:
            loaded.append(PassageIndex.load(data_dir))
        return loaded[0]

    store = open_store(settings)
    runner = DigestRunner(store, None if dry_run else make_client(settings), index_source, tz=tz,
                          first_days=settings.digest_first_days, post_empty=settings.digest_post_empty)
    try:
        if dry_run:
            for channel in channels:
                if on_preview is not None:
                    on_preview(runner.preview(channel, now, since))
            return []
        return runner.run(channels, now, since)
    finally:
        for index in loaded:
            index.close()
        store.close()
