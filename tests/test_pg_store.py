"""The PostgreSQL store's own behaviour (a real server, see :mod:`tests.pg`): open_store's choice, the
versioned schema, one-sentence errors that never show the password; and the setting's validation."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from bot.config import LogSettings, Settings, SettingsError
from retrieval.errors import ConfigurationError


def test_the_database_url_is_validated_in_one_sentence_without_echoing_it():
    with pytest.raises(SettingsError, match=r"^BULLETIN_BOT_DATABASE_URL must be a postgresql://.*got a mysql:// URL$"):
        Settings.from_env({"BULLETIN_BOT_DATABASE_URL": "mysql://u:hunter22@db/x"}, dotenv=None, require_token=False)
    with pytest.raises(SettingsError, match="got no URL scheme$"):
        Settings.from_env({"BULLETIN_BOT_DATABASE_URL": "hunter22"}, dotenv=None, require_token=False)
    s = Settings.from_env({"BULLETIN_BOT_DATABASE_URL": "postgres://u:hunter22@db:5432/x"}, dotenv=None,
                          require_token=False)
    assert s.database_url == "postgres://u:hunter22@db:5432/x" and "hunter22" not in repr(s)
    assert Settings.from_env({}, dotenv=None, require_token=False).database_url is None


def test_the_url_password_is_a_log_secret_as_written_and_decoded():
    s = LogSettings.from_env({"BULLETIN_BOT_DATABASE_URL": "postgresql://u:p%40ss-word@db/x"}, dotenv=None)
    assert set(s.secrets) == {"p%40ss-word", "p@ss-word"}


def test_open_store_chooses_postgresql_when_the_url_is_set(pg_url, tmp_path):
    from bot.state.postgres import PgStore
    from bot.state.protocol import StateStore
    from bot.state.stores import open_store

    settings = Settings.from_env({"BULLETIN_BOT_DATABASE_URL": pg_url, "BULLETIN_BOT_RETENTION_DAYS": "30"},
                                 dotenv=None, require_token=False, data_dir=tmp_path)
    store = open_store(settings)
    try:
        assert isinstance(store, PgStore) and store.retention_days == 30
        assert not (tmp_path / "bot.sqlite").exists()
        assert [n for n in dir(StateStore) if not n.startswith("_") and not hasattr(store, n)] == []
        password = pg_url.split(":")[2].split("@")[0]
        assert password not in repr(store)
    finally:
        store.close()


def test_the_schema_is_versioned_migrated_once_and_a_newer_one_refused(pg_url):
    import psycopg

    from bot.state.pg_migrations import SCHEMA_VERSION
    from bot.state.postgres import PgStore

    stores, errors = [], []

    def open_one() -> None:
        try:
            stores.append(PgStore(pg_url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]  # replicas starting at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 4
    for store in stores:
        store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall() == [
            (v,) for v in range(1, SCHEMA_VERSION + 1)]
        conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(ConfigurationError, match="schema version 99, written by a newer bulletin-bot"):
        PgStore(pg_url)


def test_an_unreachable_or_refusing_server_is_one_sentence_without_the_password(pg_url):
    from bot.state.postgres import PgStore

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(ConfigurationError, match=rf"^cannot use the PostgreSQL database at 127.0.0.1:{port}/x "
                                                 r"\(.*\); check BULLETIN_BOT_DATABASE_URL") as err:
        PgStore(f"postgresql://u:hunter22@127.0.0.1:{port}/x")
    assert "hunter22" not in str(err.value)
    wrong = pg_url.replace("bulletin:", "bulletin:x", 1)
    with pytest.raises(ConfigurationError, match="password authentication failed") as err:
        PgStore(wrong)
    assert wrong.split(":")[2].split("@")[0] not in str(err.value)


def test_a_version_1_database_gains_the_subscriptions_table_and_keeps_its_rows(pg_url, monkeypatch):
    import psycopg

    from bot.state import pg_migrations
    from bot.state.postgres import PgStore

    with monkeypatch.context() as m:  # the bot as it was before subscriptions
        m.setattr(pg_migrations, "MIGRATIONS", pg_migrations.MIGRATIONS[:1])
        m.setattr(pg_migrations, "SCHEMA_VERSION", 1)
        PgStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a row as the bot of version 1 wrote it
        answer_id = conn.execute("INSERT INTO answers (query, passage_ids, user_id, channel, thread_ts, created_at)"
                                 " VALUES ('a question', '[1]', 'U1', 'C1', '1.0', %s) RETURNING id",
                                 (time.time(),)).fetchone()[0]
    store = PgStore(pg_url)
    try:
        assert store.answer(answer_id).query == "a question"
        assert store.subscriptions("C1") == [] and store.subscribe("C1", "topic", "cookies", "U1")
    finally:
        store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall() == [
            (v,) for v in range(1, pg_migrations.SCHEMA_VERSION + 1)]


def test_a_version_2_database_folds_repeated_votes_into_each_users_latest(pg_url, monkeypatch):
    from bot.state import pg_migrations
    from bot.state.postgres import PgStore

    with monkeypatch.context() as m:  # the bot as it was before one vote per user
        m.setattr(pg_migrations, "MIGRATIONS", pg_migrations.MIGRATIONS[:2])
        m.setattr(pg_migrations, "SCHEMA_VERSION", 2)
        old = PgStore(pg_url)
        (answer_id,), _ = old._execute("INSERT INTO answers (query, passage_ids, user_id, channel, thread_ts, created_at)"
                                       " VALUES ('a question', '[1]', 'U1', 'C1', '1.0', %s) RETURNING id", (time.time(),))
        answer_id = answer_id[0]
        for user, vote in [("U1", 1), ("U1", 1), ("U2", 1), ("U1", -1)]:  # as the old code wrote them
            old._execute("INSERT INTO feedback (answer_id, query, passage_ids, user_id, vote, created_at)"
                         " VALUES (%s, 'a question', '[1]', %s, %s, %s)", (answer_id, user, vote, time.time()))
        assert old._execute("SELECT count(*) FROM feedback")[0] == [(4,)]
        old.close()
    store = PgStore(pg_url)
    try:
        assert sorted((f.user, f.vote) for f in store.feedback()) == [("U1", -1), ("U2", 1)]
    finally:
        store.close()


def test_a_database_from_before_the_audit_trail_keeps_its_answers_and_votes_without_details(pg_url, monkeypatch):
    from bot.state import pg_migrations
    from bot.state.postgres import PgStore

    with monkeypatch.context() as m:  # the bot as it was before the audit trail (version 3)
        m.setattr(pg_migrations, "MIGRATIONS", pg_migrations.MIGRATIONS[:3])
        m.setattr(pg_migrations, "SCHEMA_VERSION", 3)
        old = PgStore(pg_url)
        (row,), _ = old._execute("INSERT INTO answers (query, passage_ids, user_id, channel, thread_ts, created_at)"
                                 " VALUES ('old question', '[3, 4]', 'U1', 'C1', '1.0', %s) RETURNING id", (time.time(),))
        old._execute("INSERT INTO feedback (answer_id, query, passage_ids, user_id, vote, created_at)"
                     " VALUES (%s, 'old question', '[3, 4]', 'U2', -1, %s)", (row[0], time.time()))
        old.close()
    store = PgStore(pg_url)
    try:
        (record,) = store.answers()
        assert (record.id, record.query, record.passage_ids, record.details) == (row[0], "old question", [3, 4], None)
        (fb,) = store.feedback()
        assert (fb.user, fb.vote, fb.choice) == ("U2", -1, None)
        assert store.record_feedback(row[0], "U2", -1, choice=2).choice == 2
        assert [(f.vote, f.choice) for f in store.feedback()] == [(-1, 2)]
    finally:
        store.close()
