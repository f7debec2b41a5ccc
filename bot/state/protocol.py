"""The bot's state behind one seam: the :class:`StateStore` protocol, and its records.

Everything the bot keeps — event dedupe, answers and feedback, threads answered in, digest claims,
channels' digest subscriptions, and the retention purge — goes through a :class:`StateStore`. :class:`bot.state.sqlite.SQLiteStore`
(``DATA_DIR/bot.sqlite``) is the embedded default; :class:`bot.state.postgres.PgStore` keeps the state in
PostgreSQL, shared by replicas, when ``BULLETIN_BOT_DATABASE_URL`` is set (:func:`bot.state.stores.open_store` chooses).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from retrieval.errors import ConfigurationError

from .records import AnswerDetails


class StoreUnavailable(RuntimeError):
    """The state store cannot be used now (PostgreSQL down or unreachable); what needs it is refused with
    one sentence, while questions are still answered (:mod:`bot.state.resilient`)."""


class StoreUnreachable(ConfigurationError):
    """The state store's server cannot be reached when the store is opened (refused, timed out, starting
    up or shutting down, a host name that does not resolve) — unlike a refused login or an unknown
    database, which are settings to fix. ``serve`` then starts without it (:mod:`bot.state.resilient`)."""


@dataclass(frozen=True)
class AnswerRecord:
    """An answer the bot gave: the query and the passage ids quoted, best first, who asked, where and when
    (Unix seconds), and on what basis (``details``: generation, tier, citations; None for an answer recorded
    before the audit trail existed). ``query`` is "" and ``user`` None when the question was not kept
    (``LOG_QUESTIONS`` off)."""

    id: int
    query: str
    passage_ids: list[int]
    user: str | None
    channel: str | None
    thread_ts: str | None
    created_at: float
    details: AnswerDetails | None = None


@dataclass(frozen=True)
class Feedback:
    """One 👍 (vote +1) or 👎 (vote -1) on an answer; on a 👎, ``choice`` is the rank of the shown hit the
    voter says answered the question, 0 for "none of these", None when not said."""

    answer_id: int | None
    query: str
    passage_ids: list[int]
    user: str | None
    vote: int
    created_at: float
    choice: int | None = None


def check_vote(vote: int, *, choice: int | None = None) -> None:
    """Raises ValueError when vote is neither +1 nor -1, or ``choice`` is given with a 👍 or is negative
    (stores check it before looking the answer up)."""
    if vote not in (1, -1):
        raise ValueError(f"vote must be 1 or -1, got {vote!r}")
    if choice is not None and (vote != -1 or not isinstance(choice, int) or choice < 0):
        raise ValueError(f"a passage choice is a rank >= 1 (or 0: none of these) on a 👎, got {choice!r} on {vote:+d}")


def new_feedback(record: "AnswerRecord", user: str | None, vote: int, at: float | None = None, *,
                 choice: int | None = None) -> Feedback:
    """The feedback a vote (already checked by :func:`check_vote`) on a stored answer becomes: its
    query and passage ids copied, timed ``at`` (Unix seconds, default now), with a 👎's passage ``choice``."""
    return Feedback(record.id, record.query, record.passage_ids, user, vote, time.time() if at is None else at, choice)


@dataclass(frozen=True)
class DigestRecord:
    """The store's row for one (channel, day) digest.

    Attributes:
        state: "claimed" (a process is building or posting it until ``expires_at``, Unix seconds),
            "done" (posted, or nothing to post), or "failed" (the next run retries it).
        owner: the claim's random token; only its holder may record progress.
        built_at: when the messages were built (Unix seconds), None before that.
        since, until: the window the digest covers (ISO strings, free-form for the caller).
        known: keys of the bulletins in the index when it was built (the next digest lists the others).
        messages: the messages to post, ``[{"text", "blocks"}]``; the first is the parent.
        posted: how many of them were posted; ``thread_ts`` is the parent's ts once posted.
    """

    channel: str
    day: str
    state: str
    owner: str | None
    expires_at: float | None
    attempts: int
    built_at: float | None
    since: str | None
    until: str | None
    known: list[str] | None
    messages: list[dict] | None
    posted: int
    thread_ts: str | None
    error: str | None
    updated_at: float


#: The kinds of digest subscription: an instrument (its key) or a topic (its normalised words).
SUBSCRIPTION_KINDS = ("instrument", "topic")
#: The longest subscription value a store accepts (and the slash command lets anyone type).
MAX_SUBSCRIPTION_CHARS = 100


@dataclass(frozen=True)
class Subscription:
    """A channel's digest subscription: its digest lists only the new items matching one of them.

    Attributes:
        channel: the channel id.
        kind: "instrument" (``value`` is an instrument key of :mod:`retrieval.instruments.timeline`) or "topic"
            (``value`` is the topic's words, normalised by :func:`bot.digest.subscriptions.normalise_topic`).
        created_by: the Slack user id who subscribed (None from the command line).
        created_at: Unix seconds.
    """

    channel: str
    kind: str
    value: str
    created_by: str | None
    created_at: float


def check_subscription(kind: str, value: str) -> None:
    """Raises ValueError for an unknown kind, or a value that is empty (or only spaces) or longer than
    :data:`MAX_SUBSCRIPTION_CHARS` (stores check it before writing)."""
    if kind not in SUBSCRIPTION_KINDS:
        raise ValueError(f"subscription kind must be one of {', '.join(SUBSCRIPTION_KINDS)}, got {kind!r}")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a subscription needs a value")
    if len(value) > MAX_SUBSCRIPTION_CHARS:
        raise ValueError(f"a subscription value is at most {MAX_SUBSCRIPTION_CHARS} characters, got {len(value)}")


def event_keys(event_id: str | None, channel: str | None, ts: str | None) -> list[str]:
    """The dedupe keys of one Slack event: its event id, and its message's (channel, ts) when known."""
    keys = []
    if event_id:
        keys.append(f"event:{event_id}")
    if channel and ts:
        keys.append(f"msg:{channel}:{ts}")
    return keys


class StateStore(Protocol):
    """The store's methods the bot uses (see :class:`bot.state.sqlite.SQLiteStore` for their contracts)."""

    def close(self) -> None:
        """Release this thread's connection."""

    def ping(self) -> bool:
        """True when the store can be used now (cheap; used to notice it is back after an outage)."""

    def purge(self, now: float | None = None) -> int:
        """Delete what is kept past the retention period; returns how many rows went."""

    # event dedupe
    def claim(self, keys: Iterable[str], now: float | None = None) -> bool:
        """Claim an event by all its keys at once; False when any was claimed recently."""

    # answers and feedback
    def record_answer(self, query: str, passage_ids: Iterable[int], user: str | None = None,
                      channel: str | None = None, thread_ts: str | None = None, *,
                      details: AnswerDetails | None = None, at: float | None = None) -> int:
        """Remember an answer (with its audit ``details``, given at ``at``, default now); returns its id."""

    def answer(self, answer_id: int) -> AnswerRecord | None:
        """The answer with that id, or None."""

    def answers(self, since: float | None = None, until: float | None = None, user: str | None = None,
                channel: str | None = None) -> list[AnswerRecord]:
        """The answers given from ``since`` to before ``until`` (Unix seconds), by that user, in that channel; newest first."""

    def record_feedback(self, answer_id: int, user: str | None, vote: int, at: float | None = None, *,
                        choice: int | None = None) -> Feedback | None:
        """Record a vote (+1 or -1, with a 👎's passage ``choice``) on an answer, cast at ``at`` (default now);
        one per user per answer (the later replaces the earlier, choice included); None for an unknown answer."""

    def feedback(self, since: float | None = None) -> list[Feedback]:
        """All feedback (cast from ``since``, Unix seconds), oldest first."""

    # threads the bot answered in
    def remember_thread(self, channel: str, thread_ts: str) -> None:
        """Note that the bot answered in this thread."""

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        """True when the bot answered in this thread."""

    # digest claims
    def claim_digest(self, channel: str, day: str, owner: str, now: float,
                     hold_seconds: float = 900) -> DigestRecord | None:
        """Claim the (channel, day) digest for ``owner``; None when done or held by a live claim."""

    def save_digest_build(self, channel: str, day: str, owner: str, *, since: str | None, until: str | None,
                          known: list[str], messages: list[dict], now: float) -> bool:
        """Record the messages built for a claimed digest; False when the claim was lost."""

    def mark_digest_progress(self, channel: str, day: str, owner: str, posted: int, thread_ts: str | None,
                             now: float, hold_seconds: float = 900) -> bool:
        """Record how many messages are out and extend the claim; False when the claim was lost."""

    def mark_digest_done(self, channel: str, day: str, owner: str, now: float) -> bool:
        """The claimed digest is posted (or had nothing to post)."""

    def mark_digest_failed(self, channel: str, day: str, owner: str, error: str, now: float) -> bool:
        """Posting failed; the next run claims the digest again and resumes it."""

    def digest(self, channel: str, day: str) -> DigestRecord | None:
        """The (channel, day) digest row, or None."""

    def digests(self, channel: str | None = None) -> list[DigestRecord]:
        """Every digest row (of one channel when given), by channel then day."""

    def last_built_digest(self, channel: str) -> DigestRecord | None:
        """The channel's most recently built digest (any state)."""

    # digest subscriptions (never purged: they are settings, kept until removed)
    def subscribe(self, channel: str, kind: str, value: str, user: str | None) -> bool:
        """Subscribe the channel's digest to an instrument or topic; False when it already was."""

    def unsubscribe(self, channel: str, kind: str, value: str) -> bool:
        """Remove one subscription; False when the channel had no such subscription."""

    def subscriptions(self, channel: str | None = None) -> list[Subscription]:
        """The channel's subscriptions (every channel's when None), by channel, then oldest first."""
