"""Posting one (channel, day) digest exactly once: claim → build (once) → post each message → done.

The claim, the built messages and the progress live in the store (:class:`~bot.state.protocol.StateStore`), so
a restart, a second process or a re-run never posts a (channel, day) twice, and a failed post is
resumed at the first message not posted by the next run.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .render import Message

log = logging.getLogger("bot.digest")

#: Slack answers at most about one chat.postMessage per second per channel.
MIN_POST_SPACING = 1.0
#: A claim not renewed for this long (seconds) belongs to a crashed process and may be taken over.
CLAIM_HOLD_SECONDS = 900.0


@dataclass(frozen=True)
class DigestBuild:
    """What :func:`post_digest` stores before posting: the window, the bulletins known, the messages.

    ``items``: the items listed; for a channel with subscriptions, ``subscriptions`` names them (short
    labels) and ``new_items`` is how many new items there were before the filter kept ``items``.
    """

    since: datetime | None
    until: datetime
    known: list[str]
    messages: list[Message]
    items: int = 0
    subscriptions: tuple[str, ...] = ()
    new_items: int | None = None


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
        store: the :class:`~bot.state.protocol.StateStore`.
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
