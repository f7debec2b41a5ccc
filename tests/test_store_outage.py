"""A state-store outage, with the real PostgreSQL server of ``.ci/postgres.sh`` stopped and started again
(never a mock): questions are still answered from the index, votes wait in memory and are written once
the server is back, nothing is counted twice; and the same mechanism against SQLite's failures."""

from __future__ import annotations

import time

import pytest

from bot.server.health import Readiness
from bot.slack import blocks as bk
from bot.state.protocol import StoreUnavailable
from bot.state.resilient import ResilientStore
from retrieval.search import Searcher
from tests import pg
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest, buttons, mention
from tests.slack_fake import RESPONSE_URL, FakeSlack
from tests.test_uploads import BULLETIN, Answering

QUESTIONS = ["how much was the zebra quokka sanctuary fined", "who must appoint a data protection officer",
             "what did the regulator fine the sanctuary for"]


@pytest.fixture
def cluster(pg_url):
    """The test server's URL, emptied; the server is running again after the test, whatever happened."""
    if pg.TEST_CLUSTER_DIR is None:
        pytest.skip(pg.CLUSTER_SKIP_REASON)
    try:
        yield pg_url
    finally:
        try:
            pg.start_server()
        except Exception:  # noqa: BLE001 - it was running: nothing to start
            pass


@pytest.fixture
def indexed_bulletin(tmp_path):
    from retrieval.ingest import ingest

    folder = tmp_path / "bulletins"
    folder.mkdir()
    (folder / "quokka.md").write_text(BULLETIN)
    assert not ingest([folder], tmp_path / "data", HashEncoder()).errors
    return tmp_path / "data"


def _wait(predicate, timeout: float = 30.0) -> None:
    """A hang guard, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def _answer(fake, bot, question: str, ts: str, event_id: str | None = None):
    fake.clear()
    bot.send_event(mention(question, ts=ts), event_id=event_id)
    bot.wait_idle()
    return fake.wait_for("chat.postMessage")[0]


def _vote(fake, bot, answer, action: str, user: str) -> str:
    fake.clear()
    bot.click(buttons(answer)[action], user=user, message={"ts": "1800000000.000001", "thread_ts": "1.0"},
              response_url=fake.response_url("fb"))
    bot.wait_idle()
    return fake.wait_for(RESPONSE_URL)[0].body["text"]


def test_a_postgresql_outage_loses_no_vote_and_answers_go_on(cluster, indexed_bulletin, tmp_path):
    from bot.state.postgres import PgStore

    store = ResilientStore(PgStore(cluster), probe_every=0.2)
    searcher = Searcher(indexed_bulletin, HashEncoder())
    assert len(searcher.index)  # loaded, as serve loads it before it is ready
    readiness = Readiness()
    readiness.store = store
    readiness.set_ready(searcher)
    with FakeSlack() as fake, BotUnderTest(fake, Answering(searcher), tmp_path, store=store,
                                           log_questions=True) as bot:
        before = _answer(fake, bot, QUESTIONS[0], "700.1")
        assert "12,345 yuan" in str(before.body["blocks"])
        code, body = readiness.status()
        assert code == 200 and body["status"] == "ready" and body["store"]["ok"] is True

        pg.stop_server()
        during = _answer(fake, bot, QUESTIONS[1], "700.2", event_id="EvOUTAGE1")
        assert "data protection officer" in str(during.body["blocks"]), during.body  # answered, not "Sorry"
        assert not store.available
        code, body = readiness.status()
        assert code == 200 and body["status"] == "degraded" and body["store"]["ok"] is False

        # a retry of the same event during the outage is not answered again (in-process dedupe)
        fake.clear()
        bot.send_event(mention(QUESTIONS[1], ts="700.2"), event_id="EvOUTAGE1")
        bot.wait_idle()
        assert not fake.calls_to("chat.postMessage")

        thanks = [_vote(fake, bot, during, bk.ACTION_DOWN, "U1")]
        thanks += [_vote(fake, bot, during, bk.ACTION_UP, "U3") for _ in range(3)]  # counts once
        thanks.append(_vote(fake, bot, before, bk.ACTION_UP, "U2"))  # an answer stored before the outage
        assert all(t.startswith("Thanks, your feedback is recorded; it is saved once") for t in thanks), thanks
        assert store.health()["waiting"] == {"answers": 1, "votes": 3, "threads": 1}

        with pytest.raises(StoreUnavailable):  # what needs the database fails at once (the user hears why)
            store.answer(int(buttons(before)[bk.ACTION_UP]["value"]))

        pg.start_server()
        _wait(lambda: store.available)
        after = _answer(fake, bot, QUESTIONS[2], "700.3")  # the first call after the restart works
        assert int(buttons(after)[bk.ACTION_UP]["value"]) > 0  # stored at once, not provisionally

    check = PgStore(cluster)
    try:
        votes = sorted((f.query, f.user, f.vote) for f in check.feedback())
        assert votes == sorted([(QUESTIONS[1], "U1", -1), (QUESTIONS[1], "U3", 1), (QUESTIONS[0], "U2", 1)])
        assert check.claim(["event:EvOUTAGE1"]) is False  # the outage's claim reached the database
        rows, _ = check._execute("SELECT query FROM answers ORDER BY id")
        assert [r[0] for r in rows] == QUESTIONS
        during_record = check.answers()[1]  # the answer given during the outage, with its audit record
        assert during_record.query == QUESTIONS[1] and during_record.details.generation == searcher.index.generation
        assert during_record.details.hits and during_record.details.hits[0].sha256
        assert check.is_bot_thread("C1", "700.2")  # the thread answered in during the outage
    finally:
        check.close()


def test_votes_past_the_bound_are_refused_in_one_sentence_not_dropped_silently(tmp_path):
    import sqlite3

    class Broken:
        unavailable_errors = (sqlite3.OperationalError,)
        dedupe_seconds = 600

        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise sqlite3.OperationalError("disk I/O error")
            return fail

        def ping(self):
            return False

    store = ResilientStore(Broken(), max_pending=2, probe_every=60)
    answer_id = store.record_answer("q", [1, 2], "U1")
    assert answer_id < 0 and store.answer(answer_id).query == "q"
    assert store.claim(["event:1"]) is True and store.claim(["event:1"]) is False
    assert store.record_feedback(answer_id, "U1", 1) and store.record_feedback(answer_id, "U2", 1)
    assert store.record_feedback(answer_id, "U1", -1).vote == -1  # the same user's vote replaces theirs
    with pytest.raises(StoreUnavailable):
        store.record_feedback(answer_id, "U3", 1)
    with pytest.raises(StoreUnavailable):
        store.subscriptions("C1")  # at once, without waiting on the store
    assert store.health()["lost"]["votes"] == 1 and store.health()["waiting"]["votes"] == 2


def test_a_sqlite_store_that_fails_and_recovers_writes_what_waited(tmp_path, monkeypatch):
    import sqlite3

    from bot.state.sqlite import SQLiteStore

    inner = SQLiteStore(tmp_path / "bot.sqlite")
    store = ResilientStore(inner, probe_every=0.05)
    real = inner.record_answer
    failing = {"on": True}

    def record_answer(*args, **kwargs):
        if failing["on"]:
            raise sqlite3.OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(inner, "record_answer", record_answer)
    monkeypatch.setattr(inner, "ping", lambda: not failing["on"])
    provisional = store.record_answer("a question", [7], "U1", "C1", "1.0")
    assert provisional < 0 and not store.available
    store.record_feedback(provisional, "U9", -1)
    store.remember_thread("C1", "1.0")
    assert store.is_bot_thread("C1", "1.0")
    failing["on"] = False
    _wait(lambda: store.available)
    (fb,) = inner.feedback()
    assert (fb.query, fb.passage_ids, fb.user, fb.vote) == ("a question", [7], "U9", -1)
    assert inner.is_bot_thread("C1", "1.0")
    assert store.answer(provisional).query == "a question"  # the button's provisional id still works
    store.close()


def test_doctor_reports_the_state_store_up_and_down(cluster, tmp_path):
    from bot.config import Settings
    from bot.doctor import FAIL, OK
    from bot.doctor_store import check_store
    from bot.state.postgres import PgStore

    PgStore(cluster).close()  # migrated, as serve leaves it
    settings = Settings(bot_token="xoxb-1", data_dir=tmp_path, database_url=cluster)
    up = check_store(settings)
    assert up.status == OK and "PostgreSQL at 127.0.0.1:" in up.detail and "schema version" in up.detail
    pg.stop_server()
    down = check_store(settings)
    assert down.status == FAIL and "cannot be used" in down.detail and "start the server" in down.fix
    assert cluster.split("@")[0].split(":")[-1] not in down.detail + down.fix  # never the password


def test_a_request_that_needs_the_store_while_it_is_down_is_told_so():
    from bot.slack.listeners.reply import STORE_DOWN, report_error

    said = []
    report_error(StoreUnavailable("down"), {"response_url": "x"}, None,
                 lambda **kw: said.append(kw["text"]))
    assert said == [STORE_DOWN]


def test_serve_starts_while_postgresql_is_down_and_opens_the_store_when_it_answers(cluster, indexed_bulletin,
                                                                                   tmp_path):
    from bot.config import Settings
    from bot.server.serve import _open_state
    from bot.state.postgres import PgStore
    from bot.state.stores import open_store

    settings = Settings(bot_token="xoxb-test-token", data_dir=tmp_path, database_url=cluster)
    pg.stop_server()
    store = _open_state(settings, open_store, ResilientStore)
    assert not store.available and store.health()["store"].startswith("PgStore('127.0.0.1:")
    store.probe_every = 0.2
    searcher = Searcher(indexed_bulletin, HashEncoder())
    with FakeSlack() as fake, BotUnderTest(fake, Answering(searcher), tmp_path, store=store,
                                           log_questions=True) as bot:
        answer = _answer(fake, bot, QUESTIONS[0], "710.1")
        assert "12,345 yuan" in str(answer.body["blocks"])
        assert _vote(fake, bot, answer, bk.ACTION_UP, "U1").startswith("Thanks, your feedback is recorded; it is saved")
        pg.start_server()
        _wait(lambda: store.available)
    check = PgStore(cluster)
    try:
        assert [(f.query, f.user, f.vote) for f in check.feedback()] == [(QUESTIONS[0], "U1", 1)]
    finally:
        check.close()


def test_a_refused_login_still_stops_serve_but_an_unreachable_server_does_not(cluster):
    import re

    from bot.state.postgres import PgStore
    from bot.state.protocol import StoreUnreachable
    from retrieval.errors import ConfigurationError

    wrong = re.sub(r"://([^:]+):[^@]+@", r"://\1:wrong@", cluster)
    with pytest.raises(ConfigurationError) as refused:
        PgStore(wrong)
    assert not isinstance(refused.value, StoreUnreachable) and "password authentication failed" in str(refused.value)
    pg.stop_server()
    with pytest.raises(StoreUnreachable, match="cannot use the PostgreSQL database at 127.0.0.1:"):
        PgStore(cluster)


def test_an_answer_record_and_a_chosen_passage_given_while_the_store_is_down_are_written_as_given(tmp_path,
                                                                                                    monkeypatch):
    import sqlite3

    from bot.state.records import AnswerDetails, ShownHit, quote_sha256
    from bot.state.sqlite import SQLiteStore

    inner = SQLiteStore(tmp_path / "bot.sqlite")
    store = ResilientStore(inner, probe_every=0.05, max_pending=1)
    real = inner.record_answer
    failing = {"on": True}

    def record_answer(*args, **kwargs):
        if failing["on"]:
            raise sqlite3.OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(inner, "record_answer", record_answer)
    monkeypatch.setattr(inner, "ping", lambda: not failing["on"])
    citation = {"bulletin": "B", "source_file": "b.txt", "char_start": 0, "char_end": 5, "item_number": 1,
                "paragraph": 1}
    details = AnswerDetails("mention", "gen-7", "answers", hits=[ShownHit(1, citation, "Quote", quote_sha256("Quote"))])
    given_at = time.time() - 120
    provisional = store.record_answer("", [7], None, "C1", "1.0", details=details, at=given_at)
    assert provisional < 0 and store.answer(provisional).details == details  # the 👎 choice can list the hits
    store.record_feedback(provisional, "U9", -1)
    store.record_feedback(provisional, "U9", -1, choice=1)
    lost = store.record_answer("", [8], None, "C1", "2.0", details=details)  # past the bound of 1: not kept
    assert store.answer(lost) is None and store.health()["lost"]["answers"] == 1
    failing["on"] = False
    _wait(lambda: store.available)
    (record,) = inner.answers()
    assert record.details == details and record.created_at == given_at  # written as given, when it was given
    (fb,) = inner.feedback()
    assert (fb.answer_id, fb.user, fb.vote, fb.choice) == (record.id, "U9", -1, 1)
    store.close()
