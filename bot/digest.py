"""The daily digest: the items of bulletins that are new since a channel's last digest, posted once.

:func:`build_digest` is pure: new bulletins (each with its items) → a list of Slack messages
``[{"text", "blocks"}]``, grouped by bulletin, then section; each item as its number and title, its
first sentence or two (verbatim from the item's first passage, escaped), and its citation with a
link; a header with the date and the count. Every message stays within Slack's limits (≤ 50 blocks,
section text ≤ 3,000 characters, header ≤ 150, ≤ 11,000 characters of text in all); a digest too
long for one message becomes a parent message (header and the list of bulletins) plus thread replies.

:func:`post_digest` is idempotent: it claims (channel, day) in the :class:`~bot.store.BotStore`,
builds the messages once and stores them, posts them one by one (recording each), then marks the
digest done. A restart, a second process or a re-run never posts a (channel, day) twice; a failed
post (network error, 5xx, ``not_in_channel``) marks it failed and the next run resumes at the first
message not posted. A 429 is retried after its ``Retry-After`` by slack_sdk's
``RateLimitErrorRetryHandler``; posts to one channel are spaced at least
:data:`MIN_POST_SPACING` seconds apart (https://api.slack.com/methods/chat.postMessage#rate_limiting).

"New" means: bulletins in the index in force that the channel's last built digest did not know
(each digest stores the keys ``source_file:fingerprint`` of every bulletin in the index it was built
from, so a bulletin ingested while a digest is built is neither lost nor listed twice; a changed
bulletin counts as new). A channel's first digest lists the bulletins ingested in the last
``first_days`` days; ``since`` (``bulletin-bot digest --since``) lists those ingested since a date.

Every time here is an aware :class:`~datetime.datetime` passed in as ``now`` (tests use a fixed
clock); sleeping is injected too.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable, Iterable, Sequence

from retrieval.chunking import Passage, _sentence_spans
from retrieval.errors import IndexNotFoundError
from retrieval.index import BulletinRecord

from . import blocks as bk

log = logging.getLogger(__name__)

#: Slack answers at most about one chat.postMessage per second per channel.
MIN_POST_SPACING = 1.0
#: A claim not renewed for this long (seconds) belongs to a crashed process and may be taken over.
CLAIM_HOLD_SECONDS = 900.0
#: A header block's text is at most 150 characters (https://api.slack.com/reference/block-kit/blocks#header).
MAX_HEADER_CHARS = 150
#: The first sentence(s) of an item are cut (at a word, with "…") beyond this many characters.
MAX_EXCERPT_CHARS = 400
#: A first sentence shorter than this gets the second one beside it.
SHORT_SENTENCE_CHARS = 160
#: Bulletins listed in a parent message before "…and N more".
MAX_OVERVIEW_CHARS = 2800

Message = dict  # {"text": str, "blocks": list[dict]}


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
def item_passages(passages: Iterable[Passage]) -> list[Passage]:
    """The first passage of each item, in reading order.

    An item is a numbered entry of a section (same section, number and title). A section without
    numbered items counts as one item (its first passage); text before the first section and outside
    any item (a bulletin's preamble) is not an item.
    """
    ordered = sorted(passages, key=lambda p: p.citation.char_start)
    numbered = {p.citation.section for p in ordered if p.citation.item_number is not None}
    out, seen = [], set()
    for p in ordered:
        c = p.citation
        if c.item_number is not None:
            key = ("item", c.section, c.item_number, c.item_title)
        elif c.section and c.section not in numbered:
            key = ("section", c.section)
        else:
            continue
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def new_bulletins(index, *, known: set[str] | None = None, since: datetime | None = None) -> list[NewBulletin]:
    """The bulletins of ``index`` that are new, with their items, oldest ingest first.

    Args:
        index: a :class:`~retrieval.index.PassageIndex` (the generation in force).
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


# -- rendering (pure) -----------------------------------------------------------------------------
_LEAD_IN = re.compile(r"[\s*_]*(\([^()]*\))?[\s*_:–—-]*")


def first_sentences(passage: Passage, limit: int = MAX_EXCERPT_CHARS) -> str:
    """The item's first sentence, or two when the first is short: a verbatim slice of the passage text.

    A list entry that repeats the item title first (``- **Title** (links): Text…``) starts after the
    title and its links. Longer than ``limit`` characters: cut at a word boundary, ending in "…".
    Not escaped.
    """
    text, title = passage.text, passage.citation.item_title
    start = 0
    if title:
        at = text.find(title, 0, len(title) + 8)
        if at >= 0 and re.fullmatch(r"[\s*_•-]*", text[:at]):
            lead = _LEAD_IN.match(text, at + len(title))
            if any(ch in lead.group(0) for ch in "*:(") and lead.end() < len(text):
                start = lead.end()
    spans = [(a + start, b + start) for a, b in _sentence_spans(text[start:])]
    if not spans:
        return ""
    a, b = spans[0]
    if b - a < SHORT_SENTENCE_CHARS and len(spans) > 1:
        b = spans[1][1]
    excerpt = text[a:b]
    if len(excerpt) > limit:
        cut = excerpt[: limit - 1]
        space = max(cut.rfind(" "), cut.rfind("\n"))
        excerpt = (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
    return excerpt


def _item_blocks(p: Passage, bulletin: BulletinRecord) -> list[dict]:
    """One item: its number and title, its first sentence(s) as a quote, and its citation."""
    c = p.citation
    if c.item_number is not None:
        head = f"*{c.item_number}. {bk.escape(bk.shorten(c.item_title or 'untitled item', bk.MAX_CITATION_PART))}*"
    else:  # a section without numbered items: its heading (just above) is the item's title
        head = ""
    excerpt = first_sentences(p) or "(no text)"
    body = "\n".join([head] * bool(head) + ["> " + bk.escape(line) for line in excerpt.split("\n")])
    where = [bk.mrkdwn_link(c.url, bk.shorten(bulletin.title, bk.MAX_CITATION_PART)), bk.escape(c.date or "date unknown")]
    if c.section:
        where.append(bk.escape(bk.shorten(c.section, bk.MAX_CITATION_PART)))
    if c.item_number is not None:
        where.append(f"item {c.item_number}")
    where.append(f"¶{c.paragraph}")
    where.append(bk.escape(f"{c.source_file}, chars {c.char_start}–{c.char_end}"))
    return [bk.section_block(body, verbatim=True), bk.context_block(" · ".join(where))]


def _bulletin_block(b: BulletinRecord, items: int, continued: bool = False) -> dict:
    title = bk.mrkdwn_link(b.url, bk.shorten(b.title, bk.MAX_CITATION_PART))
    facts = [bk.escape(bk.shorten(b.publisher, bk.MAX_CITATION_PART))] if b.publisher else []
    facts.append(bk.escape(b.date) if b.date else "date unknown")
    facts.append(f"{items} new item{'s' if items != 1 else ''}")
    return bk.section_block(f":newspaper: *{title}*" + (" _(continued)_" if continued else "") + "\n" + " · ".join(facts))


def _section_block(name: str | None, continued: bool = False) -> dict:
    label = bk.escape(bk.shorten(name, bk.MAX_CITATION_PART)) if name else "Other items"
    return bk.context_block(f"*{label}*" + (" _(continued)_" if continued else ""))


def _fits(blocks: list[dict], extra: list[dict]) -> bool:
    return (len(blocks) + len(extra) <= bk.MAX_BLOCKS
            and bk.message_chars(blocks) + bk.message_chars(extra) <= bk.MAX_MESSAGE_CHARS)


def _pack(bulletins: Sequence[NewBulletin], head: list[dict]) -> list[list[dict]]:
    """Pages of blocks: ``head`` first, then bulletin / section headings and items, each page within
    the limits; a bulletin or section cut by a page break is named again "(continued)"."""
    pages: list[list[dict]] = [list(head)]
    for nb in bulletins:
        section_name: object = object()  # no section yet in this bulletin
        for i, p in enumerate(nb.items):
            item = _item_blocks(p, nb.bulletin)
            lead = []
            if i == 0:
                lead.append(_bulletin_block(nb.bulletin, len(nb.items)))
            if p.citation.section != section_name:
                lead.append(_section_block(p.citation.section))
            if not _fits(pages[-1], lead + item):
                pages.append([])
                lead = [_bulletin_block(nb.bulletin, len(nb.items), continued=i > 0)]
                lead.append(_section_block(p.citation.section, continued=p.citation.section == section_name))
            pages[-1].extend(lead + item)
            section_name = p.citation.section
    return pages


def _header(day: Date | str, count: int, bulletins: int, since: datetime | None, tz: tzinfo | None) -> tuple[str, list[dict]]:
    day_s = day.isoformat() if isinstance(day, Date) else str(day)
    title = f"Bulletin digest · {day_s}"[:MAX_HEADER_CHARS]
    if count:
        summary = f"{count} new item{'s' if count != 1 else ''} in {bulletins} bulletin{'s' if bulletins != 1 else ''}"
    else:
        summary = "Nothing new"
    if since is not None:
        local = since.astimezone(tz) if tz is not None else since
        summary += f" since {local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()
    fallback = f"{title}: {summary}"
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
              bk.context_block(summary + " · first sentences quoted verbatim from the bulletins")]
    return fallback, blocks


def _overview(bulletins: Sequence[NewBulletin]) -> dict:
    lines, shown = [], 0
    for nb in bulletins:
        b = nb.bulletin
        line = (f"• {bk.mrkdwn_link(b.url, bk.shorten(b.title, bk.MAX_CITATION_PART))} · "
                f"{bk.escape(b.date) if b.date else 'date unknown'} · {len(nb.items)} item{'s' if len(nb.items) != 1 else ''}")
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_OVERVIEW_CHARS:
            break
        lines.append(line)
        shown += 1
    if shown < len(bulletins):
        lines.append(f"…and {len(bulletins) - shown} more bulletins")
    lines.append(":thread: The items are in the thread.")
    return bk.section_block("\n".join(lines))


def build_digest(bulletins: Sequence[NewBulletin], *, day: Date | str, since: datetime | None = None,
                 tz: tzinfo | None = None, post_empty: bool = False) -> list[Message]:
    """The digest's messages (pure).

    Args:
        bulletins: the new bulletins with their items, in the order to show them.
        day: the digest's date (shown in the header).
        since: the start of the window (shown in the header, in ``tz``), or None.
        tz: the time zone ``since`` is shown in (default: its own).
        post_empty: with nothing new, one "Nothing new" message instead of none.

    Returns:
        ``[{"text", "blocks"}]``: empty when there is nothing to post; one message when the digest
        fits; else a parent (header, count, the list of bulletins) followed by thread replies with the
        items. Every message is within :data:`bot.blocks.MAX_BLOCKS` blocks and
        :data:`bot.blocks.MAX_MESSAGE_CHARS` characters, and has a plain ``text`` fallback.
    """
    count = sum(len(nb.items) for nb in bulletins)
    if not count and not post_empty:
        return []
    fallback, head = _header(day, count, len([nb for nb in bulletins if nb.items]), since, tz)
    if not count:
        return [{"text": fallback, "blocks": head}]
    pages = _pack(bulletins, head)
    if len(pages) == 1:
        return [{"text": fallback, "blocks": pages[0]}]
    replies = _pack(bulletins, [])
    parent = {"text": fallback + " (the items are in the thread)", "blocks": head + [_overview(bulletins)]}
    return [parent] + [{"text": f"{fallback} (part {i} of {len(replies)})", "blocks": page}
                       for i, page in enumerate(replies, 1)]


# -- posting (idempotent) -------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestBuild:
    """What :func:`post_digest` stores before posting: the window, the bulletins known, the messages."""

    since: datetime | None
    until: datetime
    known: list[str]
    messages: list[Message]
    items: int = 0


@dataclass(frozen=True)
class DigestOutcome:
    """What one run did for one (channel, day).

    ``status`` is one of: "posted" (all messages out), "empty" (nothing new; the day is done),
    "done" (posted earlier: nothing done now), "busy" (another process holds a live claim),
    "failed" (logged; the next run resumes), "lost" (the claim expired and was taken over mid-way).
    """

    channel: str
    day: str
    status: str
    posted: int = 0
    messages: int = 0
    error: str | None = None


class Spacer:
    """Keeps posts to one channel at least ``min_seconds`` apart (thread-safe).

    Args:
        sleep: the sleep function (seconds); tests record the requested delays instead.
        monotonic: the clock (seconds).
    """

    def __init__(self, sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 min_seconds: float = MIN_POST_SPACING):
        self.sleep, self.monotonic, self.min_seconds = sleep, monotonic, min_seconds
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Sleep until ``min_seconds`` have passed since the last post to ``channel``, then note this one."""
        with self._lock:
            last = self._last.get(channel)
            if last is not None:
                delay = self.min_seconds - (self.monotonic() - last)
                if delay > 0:
                    self.sleep(delay)
            self._last[channel] = self.monotonic()


def post_digest(client, store, channel: str, day: str, build: Callable[[], DigestBuild], *, now: datetime,
                spacer: Spacer | None = None, hold_seconds: float = CLAIM_HOLD_SECONDS) -> DigestOutcome:
    """Post the (channel, day) digest exactly once: claim → build (once) → post each message → mark done.

    Args:
        client: a ``slack_sdk.WebClient`` (with ``RateLimitErrorRetryHandler``, so a 429 waits for
            its ``Retry-After``).
        store: the :class:`~bot.store.BotStore`.
        channel: the channel id; ``day``: the digest date, ``YYYY-MM-DD`` in the digest time zone.
        build: called only when this claim has no stored messages yet; returns the :class:`DigestBuild`.
        now: the current time (aware); claim expiry is ``now + hold_seconds``.
        spacer: spaces the posts to one channel (default: a new :class:`Spacer` sleeping for real).

    Returns:
        A :class:`DigestOutcome`. Slack and network errors are logged and recorded, never raised.
        The first message is the parent; the others are posted in its thread. A crash between a
        successful post and recording it can repeat that one message when the claim is taken over.
    """
    from slack_sdk.errors import SlackApiError, SlackClientError

    spacer = spacer or Spacer()
    owner = uuid.uuid4().hex
    ts = now.timestamp()
    record = store.claim_digest(channel, day, owner, ts, hold_seconds)
    if record is None:
        existing = store.digest(channel, day)
        status = "done" if existing is not None and existing.state == "done" else "busy"
        log.info("digest %s for %s: %s, not posted again", day, channel, status)
        return DigestOutcome(channel, day, status)
    messages = record.messages
    if messages is None:
        try:
            built = build()
        except Exception as exc:  # a broken index must not stop the other channels
            log.exception("digest %s for %s: building failed", day, channel)
            store.mark_digest_failed(channel, day, owner, f"build: {exc}", ts)
            return DigestOutcome(channel, day, "failed", error=str(exc))
        messages = built.messages
        if not store.save_digest_build(channel, day, owner, since=built.since.isoformat() if built.since else None,
                                       until=built.until.isoformat(), known=built.known, messages=messages, now=ts):
            return DigestOutcome(channel, day, "lost", messages=len(messages))
    if not messages:
        store.mark_digest_done(channel, day, owner, ts)
        log.info("digest %s for %s: nothing new, nothing posted", day, channel)
        return DigestOutcome(channel, day, "empty")
    thread_ts, posted = record.thread_ts, record.posted
    if posted:
        log.info("digest %s for %s: resuming after %d of %d messages", day, channel, posted, len(messages))
    for i in range(posted, len(messages)):
        msg = messages[i]
        spacer.wait(channel)
        try:
            resp = client.chat_postMessage(channel=channel, text=msg["text"], blocks=msg["blocks"],
                                           thread_ts=thread_ts if i else None, unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            hint = " (invite the bot to the channel)" if error == "not_in_channel" else ""
            log.warning("digest %s for %s: message %d of %d failed: %s%s; retried at the next run",
                        day, channel, i + 1, len(messages), error, hint)
            store.mark_digest_failed(channel, day, owner, error, ts)
            return DigestOutcome(channel, day, "failed", posted - record.posted, len(messages), error)
        except (SlackClientError, OSError) as exc:
            log.warning("digest %s for %s: message %d of %d failed: %s; retried at the next run",
                        day, channel, i + 1, len(messages), exc)
            store.mark_digest_failed(channel, day, owner, f"network: {exc}", ts)
            return DigestOutcome(channel, day, "failed", posted - record.posted, len(messages), str(exc))
        if i == 0:
            thread_ts = resp.get("ts")
        posted = i + 1
        if not store.mark_digest_progress(channel, day, owner, posted, thread_ts, ts, hold_seconds):
            log.warning("digest %s for %s: claim taken over after %d messages; stopping", day, channel, posted)
            return DigestOutcome(channel, day, "lost", posted - record.posted, len(messages))
    store.mark_digest_done(channel, day, owner, ts)
    log.info("digest %s for %s: posted %d messages", day, channel, len(messages) - record.posted)
    return DigestOutcome(channel, day, "posted", posted - record.posted, len(messages))


# -- runs ---------------------------------------------------------------------------------------
@dataclass
class DigestRunner:
    """Runs the digest for channels: what the scheduler in ``serve`` and ``bulletin-bot digest`` call.

    Args:
        store: the :class:`~bot.store.BotStore`.
        client: a ``slack_sdk.WebClient`` (None is fine for :meth:`preview`).
        index_source: returns the index generation in force (``lambda: searcher.index`` in ``serve``,
            so a bulletin ingested while serving is seen; raises IndexNotFoundError before any ingest).
        tz: the digest time zone (the digest date is ``now`` there).
        first_days: a channel's first digest covers bulletins ingested in the last N days.
        post_empty: post "Nothing new" rather than skip a day.
        spacer: spaces posts to one channel (inject a recording sleep in tests).
    """

    store: object
    client: object
    index_source: Callable[[], object]
    tz: tzinfo = timezone.utc
    first_days: int = 7
    post_empty: bool = False
    spacer: Spacer = field(default_factory=Spacer)
    hold_seconds: float = CLAIM_HOLD_SECONDS

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
        messages = build_digest(fresh, day=self.day(now), since=since, tz=self.tz, post_empty=self.post_empty)
        return DigestBuild(since, now, sorted(bulletin_key(b) for b in index.bulletins()), messages,
                           sum(len(nb.items) for nb in fresh))

    def preview(self, channel: str, now: datetime, since: datetime | None = None) -> dict:
        """``{"channel", "messages": [{"text", "blocks"}]}``: what would be posted (``--dry-run``)."""
        return {"channel": channel, "messages": self.build(channel, now, since).messages}

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
            out.append(post_digest(self.client, self.store, channel, today, lambda: self.build(channel, now, since),
                                   now=now, spacer=self.spacer, hold_seconds=self.hold_seconds))
        return out


def _never() -> DigestBuild:
    raise AssertionError("a digest being resumed has its messages stored")


# -- scheduling inside `serve` -----------------------------------------------------------------
def start_scheduler(runner: DigestRunner, channels: Sequence[str], at: str, tz: tzinfo,
                    clock: Callable[[], datetime] | None = None, retry_minutes: int = 15):
    """Start an APScheduler ``BackgroundScheduler`` posting the digest daily at ``at`` ("HH:MM") in ``tz``.

    A second job every ``retry_minutes`` resumes digests that failed (it never starts a new one).
    Runs missed by up to an hour (a busy or sleeping host) still run once; overlapping runs are not
    started. Returns the started scheduler; stop it with ``scheduler.shutdown(wait=False)``.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    clock = clock or (lambda: datetime.now(timezone.utc))
    hour, minute = (int(x) for x in at.split(":"))

    def daily() -> None:
        _log_outcomes(runner.run(channels, clock()))

    def retry() -> None:
        _log_outcomes(runner.run(channels, clock(), resume_only=True))

    scheduler = BackgroundScheduler(timezone=tz)
    scheduler.add_job(daily, CronTrigger(hour=hour, minute=minute, timezone=tz), id="digest", name="daily digest",
                      coalesce=True, max_instances=1, misfire_grace_time=3600)
    scheduler.add_job(retry, IntervalTrigger(minutes=retry_minutes, timezone=tz), id="digest-retry",
                      name="digest retry", coalesce=True, max_instances=1)
    scheduler.start()
    log.info("daily digest at %s %s for %d channel(s); next at %s", at, tz, len(channels),
             scheduler.get_job("digest").next_run_time)
    return scheduler


def _log_outcomes(outcomes: list[DigestOutcome]) -> None:
    for o in outcomes:
        if o.status == "failed":
            log.warning("digest %s for %s failed: %s", o.day, o.channel, o.error)


def start_digest_scheduler(settings, index_source: Callable[[], object], store):
    """The scheduler ``serve`` starts when ``DIGEST_CHANNELS`` is set (None otherwise): posts with a
    Web API client built from ``settings``, reading the index through ``index_source``."""
    if not settings.digest_channels:
        return None
    from zoneinfo import ZoneInfo

    from .app import make_client

    tz = ZoneInfo(settings.digest_tz)
    runner = DigestRunner(store, make_client(settings), index_source, tz=tz,
                          first_days=settings.digest_first_days, post_empty=settings.digest_post_empty)
    return start_scheduler(runner, settings.digest_channels, settings.digest_time, tz)
