"""The PostgreSQL server the tests use: ``BULLETIN_BOT_TEST_DATABASE_URL`` (``.ci/postgres.sh start`` sets it).

Read when this module is imported (at collection), before the autouse fixture of :mod:`tests.conftest`
clears every ``BULLETIN_BOT_*`` variable. Unset: the PostgreSQL tests skip with the reason below. Set
but unreachable: they fail — CI sets it, and a CI run that silently skipped them would prove nothing.
"""

from __future__ import annotations

import os

TEST_DATABASE_URL = os.environ.get("BULLETIN_BOT_TEST_DATABASE_URL") or None
SKIP_REASON = ("no PostgreSQL server: set BULLETIN_BOT_TEST_DATABASE_URL (eval \"$(.ci/postgres.sh start)\" "
               "starts a throwaway one; .ci/run does)")


def check_reachable(url: str) -> None:
    """Connect once; raise AssertionError naming the problem (never the password) when the server cannot be used."""
    import psycopg

    from bot.state.postgres import describe_url

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        raise AssertionError(f"BULLETIN_BOT_TEST_DATABASE_URL is set but {describe_url(url)} cannot be used "
                             f"({type(exc).__name__}); start the server or unset the variable") from None


def reset(url: str) -> None:
    """Drop everything in the database's public schema (every test starts from an empty database)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
