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


#: The cluster directory of ``.ci/postgres.sh start`` (``PG_TEST_DIR``): lets a test stop and start the server.
TEST_CLUSTER_DIR = os.environ.get("PG_TEST_DIR") or None
CLUSTER_SKIP_REASON = ("the PostgreSQL outage tests stop and start the server: they need PG_TEST_DIR from "
                       "eval \"$(.ci/postgres.sh start)\"")


def _pg_ctl(*args: str) -> None:
    """Run pg_ctl on the test cluster as its owner (``nobody`` when we are root, as .ci/postgres.sh does)."""
    import shlex
    import subprocess
    from pathlib import Path

    assert TEST_CLUSTER_DIR, CLUSTER_SKIP_REASON
    data = Path(TEST_CLUSTER_DIR) / "data"
    argv = shlex.split((data / "postmaster.opts").read_text())  # how the server was started: binary, options
    pg_ctl = str(Path(argv[0]).with_name("pg_ctl"))
    owner = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    subprocess.run([*owner, pg_ctl, "-D", str(data), *args], check=True, capture_output=True, timeout=60)


def stop_server() -> None:
    """Stop the test server now (``pg_ctl stop -m fast``: connections are cut, as in a crash or a restart)."""
    _pg_ctl("-m", "fast", "-w", "stop")


def start_server() -> None:
    """Start the test server again with the options it was started with (port, socket dir, settings)."""
    import shlex
    from pathlib import Path

    assert TEST_CLUSTER_DIR, CLUSTER_SKIP_REASON
    data = Path(TEST_CLUSTER_DIR) / "data"
    argv = shlex.split((data / "postmaster.opts").read_text())[1:]
    if "-D" in argv:
        i = argv.index("-D")
        del argv[i:i + 2]
    _pg_ctl("-l", str(Path(TEST_CLUSTER_DIR) / "server.log"), "-w", "-t", "30", "-o", shlex.join(argv), "start")
