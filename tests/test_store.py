"""bot.state.sqlite: event dedupe across threads and restarts, answers, feedback, threads."""

from __future__ import annotations

import threading
import time

import pytest

from bot.state.protocol import event_keys
from bot.state.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path):
    return SQLiteStore(tmp_path / "bot.sqlite", dedupe_seconds=600)


def test_event_keys():
    assert event_keys("Ev1", "C1", "1.2") == ["event:Ev1", "msg:C1:1.2"]
    assert event_keys(None, "C1", None) == []


def test_a_retry_and_a_second_delivery_of_one_message_are_refused(store):
    assert store.claim(event_keys("Ev1", "C1", "1.0"))
    assert not store.claim(event_keys("Ev1", "C1", "1.0"))  # Slack's retry: same event id
    assert not store.claim(event_keys("Ev2", "C1", "1.0"))  # same message as `message` after `app_mention`
    assert store.claim(event_keys("Ev3", "C1", "2.0"))


def test_claims_expire_after_the_window_not_before(store):
    assert store.claim(["event:E"], now=1000.0)
    assert not store.claim(["event:E"], now=1000.0 + 599)
    assert store.claim(["event:E"], now=1000.0 + 601)


def test_claims_survive_a_restart(tmp_path):
    SQLiteStore(tmp_path / "bot.sqlite").claim(["event:E"])
    assert not SQLiteStore(tmp_path / "bot.sqlite").claim(["event:E"])


def test_exactly_one_of_many_concurrent_claims_wins(store):
    results, barrier = [], threading.Barrier(16)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(store.claim(event_keys(f"Ev{i}", "C1", "9.9")))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 15 + [True]


def test_feedback_keeps_query_passage_ids_user_and_time(store):
    answer_id = store.record_answer("what fine?", [11, 22], user="U1", channel="C1", thread_ts="1.0")
    assert store.answer(answer_id).passage_ids == [11, 22]
    fb = store.record_feedback(answer_id, "U2", -1)
    assert (fb.query, fb.passage_ids, fb.user, fb.vote) == ("what fine?", [11, 22], "U2", -1) and fb.created_at > 0
    assert store.feedback() == [fb]
    assert store.record_feedback(999, "U2", 1) is None
    with pytest.raises(ValueError, match="vote must be 1 or -1, got 0"):
        store.record_feedback(answer_id, "U2", 0)


def test_threads_the_bot_answered(store):
    store.remember_thread("C1", "1.0")
    store.remember_thread("C1", "1.0")
    assert store.is_bot_thread("C1", "1.0") and not store.is_bot_thread("C1", "2.0")


# -- schema version, migrations and retention (issue 12) -------------------------------------
OLD_SCHEMA = """
CREATE TABLE seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, query TEXT NOT NULL, passage_ids TEXT NOT NULL,
    user TEXT, channel TEXT, thread_ts TEXT, created_at REAL NOT NULL);
CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id INTEGER, query TEXT NOT NULL,
    passage_ids TEXT NOT NULL, user TEXT, vote INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE threads (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (channel, thread_ts));
"""


def _old_store(path, created_at: float) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.execute("INSERT INTO answers (query, passage_ids, user, channel, thread_ts, created_at)"
                 " VALUES ('old question', '[1]', 'U1', 'C1', '1.0', ?)", (created_at,))
    conn.commit()
    conn.close()


def test_a_store_without_a_schema_version_is_migrated_not_broken(tmp_path):
    import sqlite3
    import time

    from bot.state.migrations import SCHEMA_VERSION

    path = tmp_path / "bot.sqlite"
    _old_store(path, time.time())
    store = SQLiteStore(path)
    assert store.answer(1).query == "old question"
    assert store.record_feedback(1, "U2", 1) is not None
    store.claim_digest("C1", "2025-06-01", "me", now=time.time())  # the digests table was added
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"answers_created_idx", "feedback_created_idx", "threads_created_idx"} <= indexes
    SQLiteStore(path)  # opening again changes nothing
    assert SQLiteStore(path).answer(1).query == "old question"


def test_a_store_from_a_newer_bot_is_refused_in_one_sentence(tmp_path):
    import sqlite3

    from retrieval.errors import ConfigurationError

    path = tmp_path / "bot.sqlite"
    SQLiteStore(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigurationError, match="schema version 99.*newer bulletin-bot"):
        SQLiteStore(path)


def test_retention_purges_old_questions_and_feedback_at_open_and_on_demand(tmp_path):
    import time

    day = 86400.0
    path = tmp_path / "bot.sqlite"
    _old_store(path, time.time() - 100 * day)  # older than the default 90 days
    store = SQLiteStore(path)
    assert store.answer(1) is None  # purged when the store opened
    recent = store.record_answer("a recent question", [2], "U1", "C1", "2.0")
    store.record_feedback(recent, "U2", -1)
    store.remember_thread("C1", "2.0")
    assert store.purge(now=time.time() + 89 * day) == 0
    assert store.answer(recent).query == "a recent question" and len(store.feedback()) == 1
    assert store.purge(now=time.time() + 91 * day) == 3  # the answer, its feedback and the thread
    assert store.answer(recent) is None and store.feedback() == [] and not store.is_bot_thread("C1", "2.0")
    short = SQLiteStore(tmp_path / "short.sqlite", retention_days=1)
    short.record_answer("q", [1])
    assert short.purge(now=time.time() + 2 * day) == 1


def test_purge_also_drops_dedupe_keys_past_their_window(tmp_path):
    import sqlite3

    store = SQLiteStore(tmp_path / "bot.sqlite", dedupe_seconds=600)
    store.claim(["event:E1"], now=1000.0)
    store.claim(["event:E2"], now=2000.0)
    store.purge(now=2100.0)
    keys = [r[0] for r in sqlite3.connect(tmp_path / "bot.sqlite").execute("SELECT key FROM seen")]
    assert keys == ["event:E2"]


def test_open_store_opens_the_sqlite_store_in_the_data_dir(tmp_path):
    from bot.config import Settings
    from bot.state.protocol import StateStore
    from bot.state.sqlite import SQLiteStore
    from bot.state.stores import open_store

    settings = Settings.from_env({"BULLETIN_BOT_RETENTION_DAYS": "30"}, dotenv=None, require_token=False,
                                 data_dir=tmp_path)
    store = open_store(settings)
    try:
        assert isinstance(store, SQLiteStore) and store.retention_days == 30
        assert (tmp_path / "bot.sqlite").exists()
        missing = [name for name in dir(StateStore) if not name.startswith("_") and not hasattr(store, name)]
        assert missing == []
    finally:
        store.close()


def test_a_version_2_store_gains_the_subscriptions_table_and_keeps_its_rows(tmp_path, monkeypatch):
    import sqlite3

    from bot.state import migrations

    path = tmp_path / "bot.sqlite"
    with monkeypatch.context() as m:  # the bot as it was before subscriptions
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        m.setattr(migrations, "SCHEMA_VERSION", 2)
        SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:  # a row as the bot of version 2 wrote it
        answer_id = conn.execute("INSERT INTO answers (query, passage_ids, user, channel, thread_ts, created_at)"
                                 " VALUES ('a question', '[1]', 'U1', 'C1', '1.0', 1e9)").lastrowid
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
    store = SQLiteStore(path, retention_days=3650 * 20)
    assert store.answer(answer_id).query == "a question"
    assert store.subscriptions("C1") == [] and store.subscribe("C1", "topic", "cookies", "U1")
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION >= 3


def test_a_version_3_store_folds_repeated_votes_into_each_users_latest(tmp_path, monkeypatch):
    from bot.state import migrations

    path = tmp_path / "bot.sqlite"
    with monkeypatch.context() as m:  # the bot as it was before one vote per user
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        m.setattr(migrations, "SCHEMA_VERSION", 3)
        old = SQLiteStore(path)
        answer_id = old._conn().execute(
            "INSERT INTO answers (query, passage_ids, user, channel, thread_ts, created_at)"
            " VALUES ('a question', '[1]', 'U1', 'C1', '1.0', ?)", (time.time(),)).lastrowid
        for user, vote in [("U1", 1), ("U1", 1), ("U2", 1), ("U1", -1)]:  # as the old code wrote them
            old._conn().execute("INSERT INTO feedback (answer_id, query, passage_ids, user, vote, created_at)"
                                " VALUES (?, 'a question', '[1]', ?, ?, ?)", (answer_id, user, vote, time.time()))
        assert old._conn().execute("SELECT count(*) FROM feedback").fetchone()[0] == 4
        old.close()
    store = SQLiteStore(path)
    assert sorted((f.user, f.vote) for f in store.feedback()) == [("U1", -1), ("U2", 1)]
    store.record_feedback(answer_id, "U2", 1)
    assert len(store.feedback()) == 2


def test_a_store_from_before_the_audit_trail_keeps_its_answers_and_votes_without_details(tmp_path, monkeypatch):
    import sqlite3

    from bot.state import migrations

    path = tmp_path / "bot.sqlite"
    with monkeypatch.context() as m:  # the bot as it was before the audit trail (version 4)
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        m.setattr(migrations, "SCHEMA_VERSION", 4)
        SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:  # rows as that bot wrote them
        answer_id = conn.execute("INSERT INTO answers (query, passage_ids, user, channel, thread_ts, created_at)"
                                 " VALUES ('old question', '[3, 4]', 'U1', 'C1', '1.0', ?)", (time.time(),)).lastrowid
        conn.execute("INSERT INTO feedback (answer_id, query, passage_ids, user, vote, created_at)"
                     " VALUES (?, 'old question', '[3, 4]', 'U2', -1, ?)", (answer_id, time.time()))
    store = SQLiteStore(path)
    (record,) = store.answers()
    assert (record.id, record.query, record.passage_ids, record.details) == (answer_id, "old question", [3, 4], None)
    (fb,) = store.feedback()
    assert (fb.user, fb.vote, fb.choice) == ("U2", -1, None)
    assert store.record_feedback(answer_id, "U2", -1, choice=0).choice == 0  # the new column works on old rows
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION == 5
