"""bot.store: event dedupe across threads and restarts, answers, feedback, threads."""

from __future__ import annotations

import threading

import pytest

from bot.store import BotStore, event_keys


@pytest.fixture
def store(tmp_path):
    return BotStore(tmp_path / "bot.sqlite", dedupe_seconds=600)


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
    BotStore(tmp_path / "bot.sqlite").claim(["event:E"])
    assert not BotStore(tmp_path / "bot.sqlite").claim(["event:E"])


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
