"""``doctor``'s look at the state store: PostgreSQL (``BULLETIN_BOT_DATABASE_URL``) or ``DATA_DIR/bot.sqlite``.

Read-only: the server is reached with one direct connection and the schema version read; nothing is
migrated or written (``serve`` migrates when it starts).
"""

from __future__ import annotations

from .doctor import FAIL, OK, Check
from .state.migrations import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION
from .state.pg_migrations import SCHEMA_VERSION as PG_SCHEMA_VERSION

#: What an outage of the store does to a running bot (bot.state.resilient), said with a failed check.
WHILE_DOWN = ("while the store is down `serve` still answers questions from the index, but keeps votes in memory "
              "(and cannot start)")


def check_store(settings) -> Check:
    """The "state store" check: the store answers, and its schema is one this bot knows."""
    return _check_pg(settings.database_url) if settings.database_url else _check_sqlite(settings.store_path)


def _check_pg(url: str) -> Check:
    import psycopg

    from .state.postgres import describe_url

    where = describe_url(url)
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            known = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone() \
                if known and known[0] else None
            version = int(row[0]) if row else 0
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        return Check("state store", FAIL, f"PostgreSQL at {where} cannot be used: {reason}",
                     f"start the server, or check BULLETIN_BOT_DATABASE_URL (host, port, database, user, password); "
                     f"{WHILE_DOWN}")
    return _versioned("state store", f"PostgreSQL at {where}", version, PG_SCHEMA_VERSION,
                      "point BULLETIN_BOT_DATABASE_URL at another database")


def _check_sqlite(path) -> Check:
    import sqlite3

    if not path.exists():
        return Check("state store", OK, f"SQLite {path} (created when `serve` starts)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return Check("state store", FAIL, f"SQLite {path} cannot be read: {exc}",
                     f"check the file and its directory (permissions, disk space); {WHILE_DOWN}")
    return _versioned("state store", f"SQLite {path}", version, SQLITE_SCHEMA_VERSION, "use another data directory")


def _versioned(name: str, what: str, version: int, known: int, elsewhere: str) -> Check:
    if version > known:
        return Check(name, FAIL, f"{what} has schema version {version}, newer than this bulletin-bot knows ({known})",
                     f"upgrade bulletin-bot, or {elsewhere}")
    note = "" if version == known else f"; migrated to {known} when `serve` starts"
    return Check(name, OK, f"{what} answers (schema version {version}{note})")
