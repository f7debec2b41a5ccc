"""The bot's own state in SQLite (``DATA_DIR/bot.sqlite``): event dedupe, answers, feedback, threads.

:class:`SQLiteStore` implements :class:`bot.state.protocol.StateStore` (open one with :func:`bot.state.stores.open_store`).
Safe to share between threads (one connection per
thread, WAL journal) and between processes on one host; state survives restarts.

Tables::

    seen        key TEXT PRIMARY KEY, seen_at REAL        "event:<event_id>" and "msg:<channel>:<ts>"
    answers     id, query, passage_ids (JSON list), user, channel, thread_ts, created_at, details (JSON: the
                audit record, :class:`~bot.state.records.AnswerDetails`)
    feedback    answer_id, query, passage_ids (JSON), user, vote (+1 / -1), created_at, choice (a 👎's passage)
    threads     (channel, thread_ts) the bot answered in, created_at
    digests     (channel, day) claims of the daily digest: state claimed/done/failed, owner and claim
                expiry, the messages built, how many were posted, the parent message's ts
    subscriptions  (channel, kind, value) a channel's digest subscriptions, created_by, created_at
                (never purged; their SQL is shared with PostgreSQL in :mod:`bot.state.subscriptions`)

Times are Unix seconds (float). The schema version is ``PRAGMA user_version``; opening a store runs
the migrations it lacks, in order (:mod:`bot.state.migrations`). Questions (answers, feedback, threads
answered in) older than ``retention_days`` are deleted when the store opens and by :meth:`SQLiteStore.purge`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from .audit_sql import ANSWER_COLUMNS, answer_record, answers_query, feedback_query, feedback_record
from .migrations import DEFAULT_RETENTION_DAYS, migrate, purge_before
from .protocol import AnswerRecord, DigestRecord, Feedback, check_vote, new_feedback
from .records import AnswerDetails
from .subscriptions import SubscriptionMethods

log = logging.getLogger(__name__)

#: How often :meth:`SQLiteStore.purge` is run by ``serve`` (it also runs whenever a store opens).
PURGE_EVERY_SECONDS = 86400.0

_DIGEST_COLUMNS = ("channel, day, state, owner, expires_at, attempts, built_at, since, until, known, messages,"
                   " posted, thread_ts, error, updated_at")


def _digest_record(row) -> DigestRecord:
    (channel, day, state, owner, expires_at, attempts, built_at, since, until, known, messages,
     posted, thread_ts, error, updated_at) = row
    return DigestRecord(channel, day, state, owner, expires_at, attempts, built_at, since, until,
                        json.loads(known) if known is not None else None,
                        json.loads(messages) if messages is not None else None,
                        posted, thread_ts, error, updated_at)


class SQLiteStore(SubscriptionMethods):
    """SQLite-backed state of the bot (a :class:`~bot.state.protocol.StateStore`).

    Args:
        path: the database file (created with its parent directory), or ":memory:" for one thread.
        dedupe_seconds: how long a claimed key blocks a second claim (Slack retries for ~5 minutes).
        retention_days: questions, answers, feedback and threads older than this are deleted (at
            open, and by :meth:`purge`).

    Raises:
        ConfigurationError: the file was written by a newer bulletin-bot (a schema it does not know).
    """

    def __init__(self, path: str | Path, dedupe_seconds: float = 3600, retention_days: int = DEFAULT_RETENTION_DAYS):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.dedupe_seconds = dedupe_seconds
        self.retention_days = retention_days
        self._local = threading.local()
        self._claims = 0
        #: Failures that mean the file cannot be used now (locked past the timeout, disk full or failing).
        self.unavailable_errors = (sqlite3.OperationalError,)
        migrate(self._conn(), self.path)
        self.purge()

    def purge(self, now: float | None = None) -> int:
        """Delete the answers (question text, asker, channel), feedback and threads older than
        ``retention_days`` before ``now`` (default: the current time), and the dedupe keys past
        ``dedupe_seconds``; returns how many answers, feedback and thread rows went."""
        now = time.time() if now is None else now
        self._conn().execute("DELETE FROM seen WHERE seen_at < ?", (now - self.dedupe_seconds,))  # ids, no text
        deleted = purge_before(self._conn(), now - self.retention_days * 86400.0)
        if deleted:
            log.info("purged %d stored questions, votes and threads older than %d days", deleted, self.retention_days)
        return deleted

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _run(self, sql: str, args: tuple = ()) -> tuple[list, int]:
        """Run one statement; returns its rows and rowcount (for :class:`~bot.state.subscriptions.SubscriptionMethods`)."""
        cur = self._conn().execute(sql, args)
        return cur.fetchall(), cur.rowcount

    def ping(self) -> bool:
        """True when the file can be written now (an immediate transaction, rolled back)."""
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            self.close()  # a fresh connection next time
            return False
        return True

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- dedupe -------------------------------------------------------------------------------
    def claim(self, keys: Iterable[str], now: float | None = None) -> bool:
        """Claim an event by all its keys at once.

        Returns True when none of the keys was claimed within the last ``dedupe_seconds`` (the
        caller answers), False when any was (a retry, or the same message delivered as both
        ``app_mention`` and ``message``: the caller stays quiet). Atomic across threads and processes.
        """
        keys = list(dict.fromkeys(keys))
        if not keys:
            return True
        now = time.time() if now is None else now
        horizon = now - self.dedupe_seconds
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            marks = ",".join("?" * len(keys))
            seen = conn.execute(f"SELECT 1 FROM seen WHERE key IN ({marks}) AND seen_at >= ? LIMIT 1",
                                (*keys, horizon)).fetchone()
            if seen is None:
                conn.executemany("INSERT OR REPLACE INTO seen (key, seen_at) VALUES (?, ?)", [(k, now) for k in keys])
            self._claims += 1
            if self._claims % 500 == 0:
                conn.execute("DELETE FROM seen WHERE seen_at < ?", (horizon,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return seen is None

    # -- answers and feedback -------------------------------------------------------------
    def record_answer(self, query: str, passage_ids: Iterable[int], user: str | None = None,
                      channel: str | None = None, thread_ts: str | None = None, *,
                      details: AnswerDetails | None = None, at: float | None = None) -> int:
        """Remember an answer, with its audit ``details`` (:class:`~bot.state.records.AnswerDetails`), given
        at ``at`` (Unix seconds, default now); returns its id (used by the feedback and "More results" buttons)."""
        cur = self._conn().execute(
            "INSERT INTO answers (query, passage_ids, user, channel, thread_ts, created_at, details)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (query, json.dumps([int(p) for p in passage_ids]), user, channel, thread_ts,
             time.time() if at is None else at, details.to_json() if details is not None else None))
        if cur.lastrowid is None:  # sqlite3 sets it after every INSERT
            raise sqlite3.DatabaseError("the answer was inserted without a row id")
        return cur.lastrowid

    def answer(self, answer_id: int) -> AnswerRecord | None:
        """The answer with that id, or None."""
        row = self._conn().execute(f"SELECT {ANSWER_COLUMNS.format(user='user')} FROM answers WHERE id = ?",
                                   (answer_id,)).fetchone()
        return answer_record(row, json.loads) if row is not None else None

    def answers(self, since: float | None = None, until: float | None = None, user: str | None = None,
                channel: str | None = None) -> list[AnswerRecord]:
        """The answers given from ``since`` to before ``until`` (Unix seconds), by ``user``, in ``channel``
        (each when given), newest first."""
        sql, args = answers_query(since, until, user, channel, user_column="user", placeholder="?")
        return [answer_record(r, json.loads) for r in self._conn().execute(sql, args)]

    def record_feedback(self, answer_id: int, user: str | None, vote: int, at: float | None = None, *,
                        choice: int | None = None) -> Feedback | None:
        """Record a vote (+1 or -1) on an answer with its query and passage ids, and on a 👎 the rank of
        the passage that answered (``choice``, 0: none of these); None for an unknown answer.
        One vote per user per answer: a user's later vote replaces their earlier one, choice included (three
        👍 count once; of two votes the one cast later, ``at`` Unix seconds, default now, is kept).

        Raises:
            ValueError: vote is neither +1 nor -1, or a bad choice.
        """
        check_vote(vote, choice=choice)  # before the look-up: a bad vote on an unknown answer still raises
        record = self.answer(answer_id)
        if record is None:
            return None
        fb = new_feedback(record, user, vote, at, choice=choice)
        self._conn().execute(
            "INSERT INTO feedback (answer_id, query, passage_ids, user, vote, created_at, choice)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (answer_id, user) DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at,"
            " choice = excluded.choice WHERE excluded.created_at >= feedback.created_at",
            (fb.answer_id, fb.query, json.dumps(fb.passage_ids), fb.user, fb.vote, fb.created_at, fb.choice))
        log.info("feedback %+d on answer %s by %s%s", vote, answer_id, user,
                 "" if choice is None else f" (passage choice {choice})")
        return fb

    def feedback(self, since: float | None = None) -> list[Feedback]:
        """All feedback (cast from ``since``, Unix seconds, when given), oldest first."""
        sql, args = feedback_query(since, user_column="user", placeholder="?")
        return [feedback_record(r, json.loads) for r in self._conn().execute(sql, args)]

    # -- threads the bot answered in --------------------------------------------------------
    def remember_thread(self, channel: str, thread_ts: str) -> None:
        """Note that the bot answered in this thread."""
        self._conn().execute("INSERT OR IGNORE INTO threads (channel, thread_ts, created_at) VALUES (?, ?, ?)",
                             (channel, thread_ts, time.time()))

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        """True when the bot answered in this thread."""
        return self._conn().execute("SELECT 1 FROM threads WHERE channel = ? AND thread_ts = ?",
                                    (channel, thread_ts)).fetchone() is not None

    # -- digest claims ------------------------------------------------------------------------
    def claim_digest(self, channel: str, day: str, owner: str, now: float, hold_seconds: float = 900) -> DigestRecord | None:
        """Claim the (channel, day) digest for ``owner`` until ``now + hold_seconds`` (Unix seconds).

        Atomic across threads and processes (one ``INSERT … ON CONFLICT DO UPDATE … WHERE``). A row
        that is "failed", or "claimed" with an expired claim (its claimer crashed), is taken over and
        keeps what it holds (built messages, how many were posted). Returns the claimed row, or None
        when the digest is done or another owner's claim is still live.
        """
        conn = self._conn()
        cur = conn.execute(
            "INSERT INTO digests (channel, day, state, owner, expires_at, attempts, updated_at)"
            " VALUES (?, ?, 'claimed', ?, ?, 1, ?)"
            " ON CONFLICT (channel, day) DO UPDATE SET state = 'claimed', owner = excluded.owner,"
            " expires_at = excluded.expires_at, attempts = digests.attempts + 1, updated_at = excluded.updated_at"
            " WHERE digests.state = 'failed' OR (digests.state = 'claimed' AND digests.expires_at <= excluded.updated_at)",
            (channel, day, owner, now + hold_seconds, now))
        if cur.rowcount != 1:
            return None
        record = self.digest(channel, day)
        return record if record is not None and record.owner == owner else None

    def _update_digest(self, channel: str, day: str, owner: str, sets: str, args: tuple) -> bool:
        cur = self._conn().execute(
            f"UPDATE digests SET {sets} WHERE channel = ? AND day = ? AND owner = ? AND state = 'claimed'",
            (*args, channel, day, owner))
        return cur.rowcount == 1

    def save_digest_build(self, channel: str, day: str, owner: str, *, since: str | None, until: str | None,
                          known: list[str], messages: list[dict], now: float) -> bool:
        """Record the messages built for a claimed digest and the bulletins it knew; False when the claim was lost."""
        return self._update_digest(
            channel, day, owner, "built_at = ?, since = ?, until = ?, known = ?, messages = ?, updated_at = ?",
            (now, since, until, json.dumps(known), json.dumps(messages, ensure_ascii=False), now))

    def mark_digest_progress(self, channel: str, day: str, owner: str, posted: int, thread_ts: str | None,
                             now: float, hold_seconds: float = 900) -> bool:
        """Record that ``posted`` messages are out (the parent's ts is ``thread_ts``) and extend the claim;
        False when the claim was lost (the caller stops posting)."""
        return self._update_digest(channel, day, owner, "posted = ?, thread_ts = ?, expires_at = ?, updated_at = ?",
                                   (posted, thread_ts, now + hold_seconds, now))

    def mark_digest_done(self, channel: str, day: str, owner: str, now: float) -> bool:
        """The claimed digest is posted (or had nothing to post): it is never posted again."""
        return self._update_digest(channel, day, owner, "state = 'done', expires_at = NULL, error = NULL, updated_at = ?",
                                   (now,))

    def mark_digest_failed(self, channel: str, day: str, owner: str, error: str, now: float) -> bool:
        """Posting failed (``error`` says why); the next run claims the digest again and resumes it."""
        return self._update_digest(channel, day, owner, "state = 'failed', expires_at = NULL, error = ?, updated_at = ?",
                                   (error[:500], now))

    def digest(self, channel: str, day: str) -> DigestRecord | None:
        """The (channel, day) digest row, or None."""
        row = self._conn().execute(f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE channel = ? AND day = ?",
                                   (channel, day)).fetchone()
        return _digest_record(row) if row else None

    def digests(self, channel: str | None = None) -> list[DigestRecord]:
        """Every digest row (of one channel when given), by channel then day."""
        args: tuple[str, ...] = ()
        sql = f"SELECT {_DIGEST_COLUMNS} FROM digests ORDER BY channel, day"
        if channel is not None:
            sql, args = f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE channel = ? ORDER BY day", (channel,)
        return [_digest_record(r) for r in self._conn().execute(sql, args)]

    def last_built_digest(self, channel: str) -> DigestRecord | None:
        """The channel's most recently built digest (any state): the next digest lists what it did not know."""
        row = self._conn().execute(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE channel = ? AND built_at IS NOT NULL"
            " ORDER BY built_at DESC, day DESC LIMIT 1", (channel,)).fetchone()
        return _digest_record(row) if row else None
