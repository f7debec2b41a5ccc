"""Two processes, one answer: two real ``bulletin-bot serve --http`` replicas on one PostgreSQL (a real
server, see :mod:`tests.pg`) and one data directory, against one fake Slack Web API."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bot.slack import blocks as bk
from tests.replicas import Replica, replica_env, run_cli
from tests.slack_client import buttons, mention
from tests.slack_fake import RESPONSE_URL, FakeSlack

QUESTION = "can an employer geolocate remote workers in smart working"


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def replicas(pg_url, indexed, fake, tmp_path: Path):
    """Replicas "a" and "b", ready; stopped (SIGTERM) after the test, which checks they exit cleanly."""
    env = replica_env(fake, indexed, pg_url)
    started = [Replica(name, env, tmp_path / name) for name in ("a", "b")]
    try:
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        codes = [replica.stop() for replica in started]
    assert codes == [0, 0], [r.log() for r in started]
    assert not (indexed / "bot.sqlite").exists()  # the state was in PostgreSQL, not in the shared directory
    password = pg_url.split(":")[2].split("@")[0]
    assert all(password not in r.log() and "ready" in r.log() for r in started)


def _answers(fake: FakeSlack, thread_ts: str):
    return [c for c in fake.calls_to("chat.postMessage") if c.status == 200 and c.body.get("thread_ts") == thread_ts]


def test_one_event_delivered_to_both_replicas_and_retried_is_answered_once(replicas, fake):
    a, b = replicas
    event = mention(QUESTION, ts="500.1")
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(2)

    def deliver(replica: Replica) -> None:
        barrier.wait()
        results.append(replica.send_event(event, "EvTwice1"))

    threads = [threading.Thread(target=deliver, args=(r,)) for r in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [200, 200]
    fake.wait_for("chat.postMessage", timeout=20, where=lambda c: c.body.get("thread_ts") == "500.1")
    assert b.send_event(event, "EvTwice1", retry=1)[0] == 200  # Slack's retry, to the other replica
    assert a.send_event(event, "EvTwice1", retry=2)[0] == 200
    time.sleep(2.0)  # give a wrongly answering replica the time to post
    assert len(_answers(fake, "500.1")) == 1, [r.log() for r in replicas]


def test_a_vote_recorded_by_one_replica_is_seen_by_the_other(replicas, fake, pg_url):
    from bot.state.postgres import PgStore

    a, b = replicas
    assert a.send_event(mention(QUESTION, ts="600.1", user="U7"), "EvVote1")[0] == 200
    (answer,) = fake.wait_for("chat.postMessage", timeout=20, where=lambda c: c.body.get("thread_ts") == "600.1")
    up, down = buttons(answer)[bk.ACTION_UP], buttons(answer)[bk.ACTION_DOWN]
    message = {"ts": "1800000000.000001", "thread_ts": "600.1"}
    # The answer was recorded by a; b, which never saw the question, finds it in the shared store.
    assert b.click(up, user="U8", channel="C1", message=message, response_url=fake.response_url("b"))[0] == 200
    assert a.click(down, user="U9", channel="C1", message=message, response_url=fake.response_url("a"))[0] == 200
    thanks = fake.wait_for(RESPONSE_URL, count=2, timeout=20)
    assert all("feedback is recorded" in t.body["text"] for t in thanks), [t.body for t in thanks]
    store = PgStore(pg_url)
    try:
        votes = sorted((fb.user, fb.vote, fb.query) for fb in store.feedback())
    finally:
        store.close()
    assert votes == [("U8", 1, ""), ("U9", -1, "")]  # LOG_QUESTIONS off: the question text is not kept


def test_two_digest_runs_at_once_post_one_digest_per_channel_and_day(pg_url, indexed, fake, tmp_path: Path):
    from bot.state.postgres import PgStore

    env = replica_env(fake, indexed, pg_url)
    args = ["digest", "--channel", "C5", "--channel", "C6", "--since", "2000-01-01"]
    runs = [run_cli(args, env, tmp_path) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert not (indexed / "bot.sqlite").exists()
    for channel in ("C5", "C6"):
        posted = [c for c in fake.calls_to("chat.postMessage") if c.status == 200 and c.body["channel"] == channel]
        parents = [c for c in posted if not c.body.get("thread_ts")]
        assert len(parents) == 1, outputs
        store = PgStore(pg_url)
        try:
            (row,) = store.digests(channel)
        finally:
            store.close()
        assert row.state == "done" and row.posted == len(row.messages) == len(posted)
