"""The schema of the bot's SQLite store (``bot.sqlite``), its ordered migrations, and the retention purge.

The schema version is SQLite's ``PRAGMA user_version`` (0 in a file written before versions existed).
:func:`migrate` runs, in one transaction, every migration above the file's version, in order, and
records the new version; an old file is migrated, never rebuilt. Add a migration by appending
``(next version, SQL)`` to :data:`MIGRATIONS`; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

from retrieval.errors import ConfigurationError

#: Days a question (and its answer, votes and thread) is kept: ``BULLETIN_BOT_RETENTION_DAYS``.
DEFAULT_RETENTION_DAYS = 90

_V1 = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS seen_at_idx ON seen (seen_at);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, query TEXT NOT NULL, passage_ids TEXT NOT NULL,
    user TEXT, channel TEXT, thread_ts TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id INTEGER, query TEXT NOT NULL, passage_ids TEXT NOT NULL,
    user TEXT, vote INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS threads (
    channel TEXT NOT NULL, thread_ts TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (channel, thread_ts));
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, day TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'done', 'failed')),
    owner TEXT, expires_at REAL, attempts INTEGER NOT NULL DEFAULT 0,
    built_at REAL, since TEXT, until TEXT, known TEXT, messages TEXT,
    posted INTEGER NOT NULL DEFAULT 0, thread_ts TEXT, error TEXT, updated_at REAL NOT NULL,
    PRIMARY KEY (channel, day));
"""

_V2 = """
CREATE INDEX IF NOT EXISTS answers_created_idx ON answers (created_at);
CREATE INDEX IF NOT EXISTS feedback_created_idx ON feedback (created_at);
CREATE INDEX IF NOT EXISTS threads_created_idx ON threads (created_at);
"""

#: Channels' digest subscriptions (bot/state/subscriptions.py): settings, never purged.
SUBSCRIPTIONS_SQL = """
CREATE TABLE IF NOT EXISTS subscriptions (
    channel TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('instrument', 'topic')), value TEXT NOT NULL,
    created_by TEXT, created_at {real} NOT NULL, PRIMARY KEY (channel, kind, value));
"""

#: One vote per user per answer (SQLite's ``user`` column is ``user_id`` in PostgreSQL): repeated votes
#: recorded before it existed are folded into the user's latest, then a unique index keeps it so.
ONE_VOTE_SQL = """
DELETE FROM feedback WHERE answer_id IS NOT NULL AND {user} IS NOT NULL AND id NOT IN (
    SELECT MAX(id) FROM feedback WHERE answer_id IS NOT NULL AND {user} IS NOT NULL GROUP BY answer_id, {user});
CREATE UNIQUE INDEX IF NOT EXISTS feedback_one_vote ON feedback (answer_id, {user});
"""

#: The audit trail (:mod:`bot.state.records`): an answer's details (JSON: generation, tier, filters, the
#: citations and quotes shown) and a 👎's passage choice. Rows written before it keep NULL there.
AUDIT_SQL = """
ALTER TABLE answers ADD COLUMN details {json};
ALTER TABLE feedback ADD COLUMN choice INTEGER;
CREATE INDEX IF NOT EXISTS answers_channel_idx ON answers (channel, created_at);
"""

#: (version reached, SQL statements), in order. 1: the tables (``IF NOT EXISTS``: a file from before
#: versions existed keeps its rows); 2: indexes on the creation times, for the retention purge;
#: 3: the digest subscriptions; 4: one vote per user per answer; 5: the audit trail.
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, SUBSCRIPTIONS_SQL.format(real="REAL")),
                                           (4, ONE_VOTE_SQL.format(user="user")), (5, AUDIT_SQL.format(json="TEXT")))
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Tables holding what people asked or did, purged after the retention period (not ``subscriptions``).
_PURGED_TABLES = ("answers", "feedback", "threads")


def migrate(conn: sqlite3.Connection, path: str) -> int:
    """Bring the store behind ``conn`` (autocommit mode) to :data:`SCHEMA_VERSION`; returns the version it had.

    Raises:
        ConfigurationError: the file's version is newer than this code knows.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigurationError(f"{path} has schema version {version}, written by a newer bulletin-bot than this "
                                     f"one (which knows up to {SCHEMA_VERSION}); upgrade bulletin-bot or use another "
                                     "data directory")
        for target, sql in MIGRATIONS:
            if version < target:
                run_script(conn.execute, sql)
                conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version


def purge_before(conn: sqlite3.Connection, cutoff: float) -> int:
    """Delete the rows of answers, feedback and threads created before ``cutoff`` (Unix seconds); returns how many."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        deleted = sum(conn.execute(f"DELETE FROM {table} WHERE created_at < ?", (cutoff,)).rowcount
                      for table in _PURGED_TABLES)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return deleted


def run_script(execute, sql: str) -> None:
    """Run a migration's SQL one statement at a time (``;``-separated) with ``execute(statement)``;
    shared by the SQLite and PostgreSQL stores."""
    for statement in sql.split(";"):
        if statement.strip():
            execute(statement)
