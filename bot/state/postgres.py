"""The bot's state in PostgreSQL (``BULLETIN_BOT_DATABASE_URL=postgresql://…``), shared by replicas.

:class:`PgStore` implements :class:`bot.state.protocol.StateStore` with psycopg 3 and a connection pool
(``psycopg_pool``). Every claim is decided by the database, so any number of processes on any number
of hosts can share one database:

- event dedupe: one ``INSERT … ON CONFLICT (key) DO UPDATE … WHERE seen_at < horizon RETURNING`` for
  all of an event's keys in one transaction; a concurrent claim of the same key waits on the row lock
  and then sees it taken; if any key was taken, the transaction rolls back and nothing is written;
- digest claims: the same ``INSERT … ON CONFLICT DO UPDATE … WHERE`` as the SQLite store, and each
  later step an ``UPDATE … WHERE owner = %s AND state = 'claimed'``.

The tables match :mod:`bot.state.sqlite` (``user`` is ``user_id`` here; JSON lists are ``JSONB``; the
``subscriptions`` SQL is the same one, :mod:`bot.state.subscriptions`); the schema
is versioned in ``schema_version`` (:mod:`bot.state.pg_migrations`). Retention works as in SQLite.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from urllib.parse import urlparse

from retrieval.errors import ConfigurationError

from .audit_sql import ANSWER_COLUMNS, answer_record, answers_query, feedback_query, feedback_record
from .migrations import DEFAULT_RETENTION_DAYS
from .pg_migrations import migrate, purge_before
from .protocol import AnswerRecord, DigestRecord, Feedback, StoreUnreachable, check_vote, new_feedback
from .records import AnswerDetails
from .subscriptions import SubscriptionMethods

log = logging.getLogger(__name__)

#: Connections the pool keeps at most (answer workers, the digest, housekeeping; each call holds one briefly).
POOL_MAX_SIZE = 10
#: Seconds to wait for the server at start-up (an unreachable server is one sentence, not a hang).
CONNECT_TIMEOUT = 10.0
#: Seconds a call waits for a pooled connection, and a new connection for the server, while serving: short,
#: so that an outage is noticed within seconds (the bot then answers without the store, see
#: :mod:`bot.state.resilient`) rather than each call hanging.
POOL_TIMEOUT = 3.0
#: Seconds :meth:`PgStore.ping` waits for the server.
PING_TIMEOUT = 2

_DIGEST_COLUMNS = ("channel, day, state, owner, expires_at, attempts, built_at, since, until, known, messages,"
                   " posted, thread_ts, error, updated_at")


class _Rollback(Exception):
    """Raised inside a transaction to roll it back on purpose."""


def describe_url(url: str) -> str:
    """``host:port/database`` of a database URL, for messages (never the user's password)."""
    parsed = urlparse(url)
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 5432}{parsed.path or '/'}"


def _digest_record(row) -> DigestRecord:
    return DigestRecord(*row)


class PgStore(SubscriptionMethods):
    """PostgreSQL-backed state of the bot (a :class:`~bot.state.protocol.StateStore`), safe across threads and processes.

    Args:
        url: ``postgresql://user:password@host:port/database`` (libpq's URI form; ``?sslmode=…`` works).
        dedupe_seconds: how long a claimed key blocks a second claim (Slack retries for ~5 minutes).
        retention_days: questions, answers, feedback and threads older than this are deleted (at
            open, and by :meth:`purge`).
        max_size: connections the pool opens at most.

    Raises:
        StoreUnreachable: the server cannot be reached (a :class:`ConfigurationError`; one sentence naming
            host, port and database, never the password).
        ConfigurationError: the server refuses the login or knows no such database, or the schema is
            newer than this code knows.
    """

    def __init__(self, url: str, dedupe_seconds: float = 3600, retention_days: int = DEFAULT_RETENTION_DAYS,
                 max_size: int = POOL_MAX_SIZE) -> None:
        import psycopg
        from psycopg_pool import PoolTimeout

        self.where = describe_url(url)
        self.dedupe_seconds = dedupe_seconds
        self.retention_days = retention_days
        try:  # one direct connection first: its error says why (the pool's only says "timeout")
            with psycopg.connect(url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT)) as conn:
                migrate(conn, self.where)
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split()) or exc.__class__.__name__
            for secret in _passwords(url):
                reason = reason.replace(secret, "[redacted]")
            error = StoreUnreachable if unreachable(reason) else ConfigurationError
            raise error(f"cannot use the PostgreSQL database at {self.where} ({reason}); check "
                        "BULLETIN_BOT_DATABASE_URL and that the server is up") from None
        self._url, self._max_size = url, max_size
        #: Failures that mean the server is down or unreachable (:mod:`bot.state.resilient` degrades on them).
        self.unavailable_errors = (psycopg.OperationalError, psycopg.InterfaceError)
        self._pool = self._new_pool()
        try:
            self._pool.wait(CONNECT_TIMEOUT)
        except PoolTimeout:
            self._pool.close()
            raise ConfigurationError(f"cannot open connections to the PostgreSQL database at {self.where}; check "
                                     "BULLETIN_BOT_DATABASE_URL and the server's max_connections") from None
        self.purge()

    def _new_pool(self):
        """An open pool: each connection checked as it is handed out (one dropped by a server restart is
        replaced, not used), a call waiting at most :data:`POOL_TIMEOUT` for one."""
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(self._url, min_size=1, max_size=self._max_size, timeout=POOL_TIMEOUT, open=False,
                              kwargs={"autocommit": True, "connect_timeout": int(POOL_TIMEOUT)},
                              check=ConnectionPool.check_connection, name="bulletin-bot")
        pool.open()
        return pool

    def ping(self) -> bool:
        """True when the server answers now (a direct connection, not the pool's); then the pool is replaced
        by a fresh one, so that the old pool's reconnection backoff (up to tens of seconds after an outage)
        never delays the calls that follow."""
        import psycopg

        try:
            with psycopg.connect(self._url, autocommit=True, connect_timeout=PING_TIMEOUT) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        old, self._pool = self._pool, self._new_pool()
        threading.Thread(target=old.close, kwargs={"timeout": 1.0}, daemon=True, name="old-pool").start()
        return True

    def __repr__(self) -> str:
        return f"PgStore({self.where!r})"

    def close(self) -> None:
        """Close the pool and its connections (the store is unusable afterwards)."""
        self._pool.close()

    def _execute(self, sql: str, args: tuple = ()):
        """Run one statement on a pooled connection; returns its rows (when it has any) and rowcount."""
        with self._pool.connection() as conn:
            cur = conn.execute(sql, args)
            return (cur.fetchall() if cur.description is not None else []), cur.rowcount

    _run = _execute  # what SubscriptionMethods calls, with psycopg's placeholder
    _placeholder = "%s"

    def purge(self, now: float | None = None) -> int:
        """Delete the answers, feedback and threads older than ``retention_days`` before ``now`` (default:
        the current time), and the dedupe keys past ``dedupe_seconds``; returns how many answers,
        feedback and thread rows went."""
        now = time.time() if now is None else now
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM seen WHERE seen_at < %s", (now - self.dedupe_seconds,))
            deleted = purge_before(conn, now - self.retention_days * 86400.0)
        if deleted:
            log.info("purged %d stored questions, votes and threads older than %d days", deleted, self.retention_days)
        return deleted

    # -- dedupe -------------------------------------------------------------------------------
    def claim(self, keys: Iterable[str], now: float | None = None) -> bool:
        """Claim an event by all its keys at once: True when none was claimed within the last
        ``dedupe_seconds`` (the caller answers), False when any was. Atomic across processes."""
        keys = sorted(set(keys))  # one lock order for every claimer: no deadlocks
        if not keys:
            return True
        now = time.time() if now is None else now
        try:
            with self._pool.connection() as conn, conn.transaction():
                won = conn.execute(
                    "INSERT INTO seen (key, seen_at) SELECT k, %s FROM unnest(%s::text[]) AS k"
                    " ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE seen.seen_at < %s"
                    " RETURNING key", (now, keys, now - self.dedupe_seconds)).fetchall()
                if len(won) != len(keys):
                    raise _Rollback
        except _Rollback:
            return False
        return True

    # -- answers and feedback -------------------------------------------------------------
    def record_answer(self, query: str, passage_ids: Iterable[int], user: str | None = None,
                      channel: str | None = None, thread_ts: str | None = None, *,
                      details: AnswerDetails | None = None, at: float | None = None) -> int:
        """Remember an answer, with its audit ``details``, given at ``at`` (Unix seconds, default now);
        returns its id (used by the feedback and "More results" buttons)."""
        from psycopg.types.json import Jsonb

        rows, _ = self._execute(
            "INSERT INTO answers (query, passage_ids, user_id, channel, thread_ts, created_at, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (query, Jsonb([int(p) for p in passage_ids]), user, channel, thread_ts,
             time.time() if at is None else at, Jsonb(details.to_dict()) if details is not None else None))
        return int(rows[0][0])

    def answer(self, answer_id: int) -> AnswerRecord | None:
        """The answer with that id, or None."""
        rows, _ = self._execute(f"SELECT {ANSWER_COLUMNS.format(user='user_id')} FROM answers WHERE id = %s",
                                (int(answer_id),))
        return answer_record(rows[0], list) if rows else None

    def answers(self, since: float | None = None, until: float | None = None, user: str | None = None,
                channel: str | None = None) -> list[AnswerRecord]:
        """The answers given from ``since`` to before ``until`` (Unix seconds), by ``user``, in ``channel``
        (each when given), newest first."""
        sql, args = answers_query(since, until, user, channel, user_column="user_id", placeholder="%s")
        rows, _ = self._execute(sql, args)
        return [answer_record(r, list) for r in rows]

    def record_feedback(self, answer_id: int, user: str | None, vote: int, at: float | None = None, *,
                        choice: int | None = None) -> Feedback | None:
        """Record a vote (+1 or -1) on an answer with its query and passage ids, and on a 👎 the rank of
        the passage that answered (``choice``, 0: none of these); None for an unknown answer.
        One vote per user per answer: a user's later vote (``at``, Unix seconds, default now) replaces
        their earlier one, choice included.

        Raises:
            ValueError: vote is neither +1 nor -1, or a bad choice.
        """
        from psycopg.types.json import Jsonb

        check_vote(vote, choice=choice)  # before the look-up: a bad vote on an unknown answer still raises
        record = self.answer(answer_id)
        if record is None:
            return None
        fb = new_feedback(record, user, vote, at, choice=choice)
        self._execute("INSERT INTO feedback (answer_id, query, passage_ids, user_id, vote, created_at, choice)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                      " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote,"
                      " created_at = excluded.created_at, choice = excluded.choice"
                      " WHERE excluded.created_at >= feedback.created_at",
                      (fb.answer_id, fb.query, Jsonb(fb.passage_ids), fb.user, fb.vote, fb.created_at, fb.choice))
        log.info("feedback %+d on answer %s by %s%s", vote, answer_id, user,
                 "" if choice is None else f" (passage choice {choice})")
        return fb

    def feedback(self, since: float | None = None) -> list[Feedback]:
        """All feedback (cast from ``since``, Unix seconds, when given), oldest first."""
        sql, args = feedback_query(since, user_column="user_id", placeholder="%s")
        rows, _ = self._execute(sql, args)
        return [feedback_record(r, list) for r in rows]

    # -- threads the bot answered in --------------------------------------------------------
    def remember_thread(self, channel: str, thread_ts: str) -> None:
        """Note that the bot answered in this thread."""
        self._execute("INSERT INTO threads (channel, thread_ts, created_at) VALUES (%s, %s, %s)"
                      " ON CONFLICT DO NOTHING", (channel, thread_ts, time.time()))

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        """True when the bot answered in this thread."""
        rows, _ = self._execute("SELECT 1 FROM threads WHERE channel = %s AND thread_ts = %s", (channel, thread_ts))
        return bool(rows)

    # -- digest claims ------------------------------------------------------------------------
    def claim_digest(self, channel: str, day: str, owner: str, now: float, hold_seconds: float = 900) -> DigestRecord | None:
        """Claim the (channel, day) digest for ``owner`` until ``now + hold_seconds`` (Unix seconds).

        One ``INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`` (atomic across processes): a row that
        is "failed", or "claimed" with an expired claim, is taken over and keeps what it holds. Returns
        the claimed row, or None when the digest is done or another owner's claim is still live.
        """
        rows, _ = self._execute(
            "INSERT INTO digests (channel, day, state, owner, expires_at, attempts, updated_at)"
            " VALUES (%s, %s, 'claimed', %s, %s, 1, %s)"
            " ON CONFLICT (channel, day) DO UPDATE SET state = 'claimed', owner = excluded.owner,"
            " expires_at = excluded.expires_at, attempts = digests.attempts + 1, updated_at = excluded.updated_at"
            " WHERE digests.state = 'failed' OR (digests.state = 'claimed' AND digests.expires_at <= excluded.updated_at)"
            f" RETURNING {_DIGEST_COLUMNS}", (channel, day, owner, now + hold_seconds, now))
        return _digest_record(rows[0]) if rows else None

    def _update_digest(self, channel: str, day: str, owner: str, sets: str, args: tuple) -> bool:
        _, count = self._execute(
            f"UPDATE digests SET {sets} WHERE channel = %s AND day = %s AND owner = %s AND state = 'claimed'",
            (*args, channel, day, owner))
        return count == 1

    def save_digest_build(self, channel: str, day: str, owner: str, *, since: str | None, until: str | None,
                          known: list[str], messages: list[dict], now: float) -> bool:
        """Record the messages built for a claimed digest and the bulletins it knew; False when the claim was lost."""
        from psycopg.types.json import Jsonb

        return self._update_digest(
            channel, day, owner, "built_at = %s, since = %s, until = %s, known = %s, messages = %s, updated_at = %s",
            (now, since, until, Jsonb(known), Jsonb(messages), now))

    def mark_digest_progress(self, channel: str, day: str, owner: str, posted: int, thread_ts: str | None,
                             now: float, hold_seconds: float = 900) -> bool:
        """Record that ``posted`` messages are out (the parent's ts is ``thread_ts``) and extend the claim;
        False when the claim was lost (the caller stops posting)."""
        return self._update_digest(channel, day, owner,
                                   "posted = %s, thread_ts = %s, expires_at = %s, updated_at = %s",
                                   (posted, thread_ts, now + hold_seconds, now))

    def mark_digest_done(self, channel: str, day: str, owner: str, now: float) -> bool:
        """The claimed digest is posted (or had nothing to post): it is never posted again."""
        return self._update_digest(channel, day, owner,
                                   "state = 'done', expires_at = NULL, error = NULL, updated_at = %s", (now,))

    def mark_digest_failed(self, channel: str, day: str, owner: str, error: str, now: float) -> bool:
        """Posting failed (``error`` says why); the next run claims the digest again and resumes it."""
        return self._update_digest(channel, day, owner,
                                   "state = 'failed', expires_at = NULL, error = %s, updated_at = %s",
                                   (error[:500], now))

    def digest(self, channel: str, day: str) -> DigestRecord | None:
        """The (channel, day) digest row, or None."""
        rows, _ = self._execute(f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE channel = %s AND day = %s",
                                (channel, day))
        return _digest_record(rows[0]) if rows else None

    def digests(self, channel: str | None = None) -> list[DigestRecord]:
        """Every digest row (of one channel when given), by channel then day."""
        if channel is None:
            rows, _ = self._execute(f"SELECT {_DIGEST_COLUMNS} FROM digests ORDER BY channel, day")
        else:
            rows, _ = self._execute(f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE channel = %s ORDER BY day",
                                    (channel,))
        return [_digest_record(r) for r in rows]

    def last_built_digest(self, channel: str) -> DigestRecord | None:
        """The channel's most recently built digest (any state): the next digest lists what it did not know."""
        rows, _ = self._execute(f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE channel = %s AND built_at IS NOT NULL"
                                " ORDER BY built_at DESC, day DESC LIMIT 1", (channel,))
        return _digest_record(rows[0]) if rows else None


#: What a server that answered says when it is only not ready (so the store is unreachable, not misconfigured).
_NOT_READY = re.compile(r"starting up|shutting down|in recovery mode|too many (clients|connections)|"
                        r"not yet accepting connections", re.IGNORECASE)


def unreachable(reason: str) -> bool:
    """True when a connection error (its text) says the server cannot be reached now — no answer at all
    (refused, timed out, no route, an unknown host) or "starting up"/"shutting down" — rather than a
    login or database the settings must fix (a ``FATAL:`` the server sent for them)."""
    return "FATAL:" not in reason or bool(_NOT_READY.search(reason))


def _passwords(url: str) -> tuple[str, ...]:
    from bot.config import database_password

    return database_password(url)
