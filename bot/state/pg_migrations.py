"""The schema of the PostgreSQL store, its ordered migrations, and the retention purge.

The schema version is the highest ``version`` in the ``schema_version`` table (one row per migration
applied, with when). :func:`migrate` takes a transaction-scoped advisory lock first, so replicas that
start at once migrate one after the other (the second finds nothing to do); an old database is
migrated, never rebuilt. Add a migration by appending ``(next version, SQL)`` to :data:`MIGRATIONS`;
never edit one that has shipped.
"""

from __future__ import annotations

import time

from retrieval.errors import ConfigurationError

from .migrations import AUDIT_SQL, ONE_VOTE_SQL, SUBSCRIPTIONS_SQL, run_script

#: The advisory lock key that serialises migrations (any constant bigint, the same in every replica).
MIGRATION_LOCK = 0x6275_6C6C_6574  # "bullet"

_V1 = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS seen_at_idx ON seen (seen_at);
CREATE TABLE IF NOT EXISTS answers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, query TEXT NOT NULL, passage_ids JSONB NOT NULL,
    user_id TEXT, channel TEXT, thread_ts TEXT, created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS answers_created_idx ON answers (created_at);
CREATE TABLE IF NOT EXISTS feedback (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, answer_id BIGINT, query TEXT NOT NULL,
    passage_ids JSONB NOT NULL, user_id TEXT, vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_created_idx ON feedback (created_at);
CREATE TABLE IF NOT EXISTS threads (
    channel TEXT NOT NULL, thread_ts TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (channel, thread_ts));
CREATE INDEX IF NOT EXISTS threads_created_idx ON threads (created_at);
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, day TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'done', 'failed')),
    owner TEXT, expires_at DOUBLE PRECISION, attempts INTEGER NOT NULL DEFAULT 0,
    built_at DOUBLE PRECISION, since TEXT, until TEXT, known JSONB, messages JSONB,
    posted INTEGER NOT NULL DEFAULT 0, thread_ts TEXT, error TEXT, updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (channel, day));
"""

#: (version reached, SQL statements), in order. 1: the tables and the indexes of the retention purge;
#: 2: the digest subscriptions (the same table as SQLite's version 3); 3: one vote per user per answer
#: (SQLite's version 4); 4: the audit trail (SQLite's version 5).
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, SUBSCRIPTIONS_SQL.format(real="DOUBLE PRECISION")),
                                           (3, ONE_VOTE_SQL.format(user="user_id")), (4, AUDIT_SQL.format(json="JSONB")))
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Tables holding what people asked or did, purged after the retention period (not ``subscriptions``).
_PURGED_TABLES = ("answers", "feedback", "threads")


def migrate(conn, where: str) -> int:
    """Bring the database behind ``conn`` (a psycopg connection) to :data:`SCHEMA_VERSION`, in one
    transaction under :data:`MIGRATION_LOCK`; returns the version it had (0: a new database).

    Args:
        where: how to name the database in a message (host/database, never the password).

    Raises:
        ConfigurationError: the database's version is newer than this code knows.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                     "version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
        version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigurationError(f"the database {where} has schema version {version}, written by a newer "
                                     f"bulletin-bot than this one (which knows up to {SCHEMA_VERSION}); upgrade "
                                     "bulletin-bot or point BULLETIN_BOT_DATABASE_URL at another database")
        for target, sql in MIGRATIONS:
            if version < target:
                run_script(conn.execute, sql)
                conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                             (target, time.time()))
    return version


def purge_before(conn, cutoff: float) -> int:
    """Delete the rows of answers, feedback and threads created before ``cutoff`` (Unix seconds); returns how many."""
    with conn.transaction():
        return sum(conn.execute(f"DELETE FROM {table} WHERE created_at < %s", (cutoff,)).rowcount
                   for table in _PURGED_TABLES)
