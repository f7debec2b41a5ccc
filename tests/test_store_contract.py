"""The StateStore contract, run against every store: SQLite always, PostgreSQL on a real server when one
is configured (``BULLETIN_BOT_TEST_DATABASE_URL``; see :mod:`tests.pg`), never a mock."""

from __future__ import annotations

import threading
import time

import pytest

from bot.state.protocol import event_keys
from bot.state.records import AnswerDetails

DAY = 86400.0


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request, tmp_path):
    """``make_store(**kwargs)``: a new store on the same database each call (a second process, a restart)."""
    opened = []

    def make(**kwargs):
        if request.param == "sqlite":
            from bot.state.sqlite import SQLiteStore

            store = SQLiteStore(tmp_path / "bot.sqlite", **kwargs)
        else:
            from bot.state.postgres import PgStore

            store = PgStore(url, **kwargs)
        opened.append(store)
        return store

    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store):
    return make_store(dedupe_seconds=600)


def test_a_retry_and_a_second_delivery_of_one_message_are_refused(store):
    assert store.claim(event_keys("Ev1", "C1", "1.0"))
    assert not store.claim(event_keys("Ev1", "C1", "1.0"))
    assert not store.claim(event_keys("Ev2", "C1", "1.0"))
    assert store.claim(event_keys("Ev3", "C1", "2.0"))
    assert store.claim([])


def test_a_refused_claim_writes_none_of_its_keys(store):
    assert store.claim(["event:A"], now=1000.0)
    assert not store.claim(["event:A", "event:B"], now=1001.0)
    assert store.claim(["event:B"], now=1002.0)


def test_claims_expire_after_the_window_not_before(store):
    assert store.claim(["event:E"], now=1000.0)
    assert not store.claim(["event:E"], now=1000.0 + 599)
    assert store.claim(["event:E"], now=1000.0 + 601)
    assert not store.claim(["event:E"], now=1000.0 + 602)


def test_claims_survive_a_restart_and_are_shared_between_stores(make_store):
    assert make_store().claim(["event:E"])
    assert not make_store().claim(["event:E"])


def test_exactly_one_of_many_concurrent_claims_wins_across_stores(make_store):
    stores = [make_store(), make_store()]
    results, barrier = [], threading.Barrier(16)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(stores[i % 2].claim(event_keys(f"Ev{i}", "C1", "9.9")))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 15 + [True]


def test_answers_and_feedback_round_trip_and_are_seen_by_another_store(make_store):
    one, other = make_store(), make_store()
    answer_id = one.record_answer("what fine?", [11, 22], user="U1", channel="C1", thread_ts="1.0")
    record = other.answer(answer_id)
    assert (record.query, record.passage_ids, record.user, record.channel, record.thread_ts) == (
        "what fine?", [11, 22], "U1", "C1", "1.0") and record.created_at > 0
    fb = other.record_feedback(answer_id, "U2", -1)
    assert (fb.query, fb.passage_ids, fb.user, fb.vote) == ("what fine?", [11, 22], "U2", -1)
    assert one.feedback() == [fb]
    assert one.record_feedback(999, "U2", 1) is None and one.answer(999) is None
    with pytest.raises(ValueError, match="vote must be 1 or -1, got 0"):
        one.record_feedback(answer_id, "U2", 0)


def test_one_vote_per_user_per_answer_the_latest_counts(store):
    answer_id = store.record_answer("what fine?", [11], user="U1")
    for _ in range(3):
        store.record_feedback(answer_id, "U1", 1)  # three 👍 by one user count once
    store.record_feedback(answer_id, "U2", 1)
    assert sorted((f.user, f.vote) for f in store.feedback()) == [("U1", 1), ("U2", 1)]
    store.record_feedback(answer_id, "U1", -1)  # a change of mind replaces the vote
    assert sorted((f.user, f.vote) for f in store.feedback()) == [("U1", -1), ("U2", 1)]
    now = time.time()
    store.record_feedback(answer_id, "U2", -1, at=now - 60)  # cast before U2's 👍 (a vote queued in an outage)
    assert sorted((f.user, f.vote) for f in store.feedback()) == [("U1", -1), ("U2", 1)]
    other = store.record_answer("what fine?", [11], user="U1")
    store.record_feedback(other, "U1", 1)  # another answer: a vote of its own
    assert len(store.feedback()) == 3


def test_threads_the_bot_answered(store):
    store.remember_thread("C1", "1.0")
    store.remember_thread("C1", "1.0")
    assert store.is_bot_thread("C1", "1.0") and not store.is_bot_thread("C1", "2.0")


def test_retention_purges_old_questions_feedback_and_threads(make_store):
    store = make_store(retention_days=90)
    recent = store.record_answer("a recent question", [2], "U1", "C1", "2.0")
    store.record_feedback(recent, "U2", -1)
    store.remember_thread("C1", "2.0")
    assert store.purge(now=time.time() + 89 * DAY) == 0
    assert store.answer(recent).query == "a recent question" and len(store.feedback()) == 1
    assert store.purge(now=time.time() + 91 * DAY) == 3
    assert store.answer(recent) is None and store.feedback() == [] and not store.is_bot_thread("C1", "2.0")


def test_purge_drops_dedupe_keys_past_their_window(store):
    store.claim(["event:E1"], now=1000.0)
    store.claim(["event:E2"], now=2000.0)
    store.purge(now=2100.0)
    assert store.claim(["event:E1"], now=2100.0) and not store.claim(["event:E2"], now=2100.0)


def test_a_digest_is_claimed_once_resumed_after_failure_and_never_after_done(make_store):
    one, other = make_store(), make_store()
    now = 1_000_000.0
    claimed = one.claim_digest("C1", "2025-06-01", "a", now, 900)
    assert claimed.state == "claimed" and claimed.owner == "a" and claimed.attempts == 1
    assert other.claim_digest("C1", "2025-06-01", "b", now + 10, 900) is None  # a live claim
    messages = [{"text": "parent", "blocks": [{"type": "section"}]}, {"text": "reply ✓", "blocks": []}]
    assert one.save_digest_build("C1", "2025-06-01", "a", since="s", until="u", known=["k1"], messages=messages,
                                 now=now + 1)
    assert not other.save_digest_build("C1", "2025-06-01", "b", since=None, until=None, known=[], messages=[],
                                       now=now + 1)
    assert one.mark_digest_progress("C1", "2025-06-01", "a", 1, "111.1", now + 2)
    assert one.mark_digest_failed("C1", "2025-06-01", "a", "boom " * 200, now + 3)
    assert not one.mark_digest_done("C1", "2025-06-01", "a", now + 3)  # no longer claimed
    resumed = other.claim_digest("C1", "2025-06-01", "b", now + 4, 900)
    assert (resumed.owner, resumed.attempts, resumed.posted, resumed.thread_ts, resumed.messages, resumed.known) == (
        "b", 2, 1, "111.1", messages, ["k1"])
    assert len(one.digest("C1", "2025-06-01").error) == 500
    assert other.mark_digest_done("C1", "2025-06-01", "b", now + 5)
    assert one.claim_digest("C1", "2025-06-01", "c", now + 10_000, 900) is None  # done is done
    done = one.digest("C1", "2025-06-01")
    assert (done.state, done.error, done.expires_at) == ("done", None, None)


def test_an_expired_digest_claim_is_taken_over(make_store):
    store = make_store()
    assert store.claim_digest("C1", "2025-06-01", "crashed", 1000.0, 900) is not None
    assert store.claim_digest("C1", "2025-06-01", "next", 1000.0 + 899, 900) is None
    assert store.claim_digest("C1", "2025-06-01", "next", 1000.0 + 900, 900).owner == "next"
    assert not store.mark_digest_done("C1", "2025-06-01", "crashed", 2000.0)


def test_exactly_one_of_many_concurrent_digest_claims_wins(make_store):
    stores = [make_store(), make_store()]
    results, barrier = [], threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(stores[i % 2].claim_digest("C9", "2025-06-01", f"owner{i}", 5000.0, 900))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([r for r in results if r is not None]) == 1


def test_digest_listings_and_the_last_built(store):
    for channel, day, built in [("C2", "2025-06-01", 10.0), ("C1", "2025-06-02", 30.0), ("C1", "2025-06-01", 20.0)]:
        store.claim_digest(channel, day, "o", 1.0)
        store.save_digest_build(channel, day, "o", since=None, until=None, known=[day], messages=[], now=built)
    store.claim_digest("C1", "2025-06-03", "o", 1.0)  # claimed, never built
    assert [(d.channel, d.day) for d in store.digests()] == [
        ("C1", "2025-06-01"), ("C1", "2025-06-02"), ("C1", "2025-06-03"), ("C2", "2025-06-01")]
    assert [d.day for d in store.digests("C1")] == ["2025-06-01", "2025-06-02", "2025-06-03"]
    assert store.last_built_digest("C1").day == "2025-06-02" and store.last_built_digest("C3") is None
    assert store.digest("C1", "2025-06-09") is None


# -- digest subscriptions -------------------------------------------------------------------------
def test_a_subscription_is_added_once_listed_and_seen_by_another_store(make_store):
    one, other = make_store(), make_store()
    before = time.time()
    assert one.subscribe("C1", "instrument", "cn-pipl", "U1")
    assert not other.subscribe("C1", "instrument", "cn-pipl", "U2")  # already: the first subscriber is kept
    [sub] = other.subscriptions("C1")
    assert (sub.channel, sub.kind, sub.value, sub.created_by) == ("C1", "instrument", "cn-pipl", "U1")
    assert before - 1 <= sub.created_at <= time.time() + 1
    assert other.subscriptions("C2") == []


def test_subscriptions_are_per_channel_and_kind_oldest_first(store):
    assert store.subscribe("C1", "topic", "facial recognition", "U1")
    assert store.subscribe("C1", "instrument", "eu-us-dpf", None)
    assert store.subscribe("C1", "topic", "eu-us-dpf", "U1")  # the same value as another kind is another subscription
    assert store.subscribe("C2", "topic", "facial recognition", "U3")
    assert store.subscribe("C0", "topic", "données personnelles", "U4")  # any Unicode round-trips
    assert [(s.kind, s.value) for s in store.subscriptions("C1")] == [
        ("topic", "facial recognition"), ("instrument", "eu-us-dpf"), ("topic", "eu-us-dpf")]
    assert [(s.channel, s.value) for s in store.subscriptions()] == [
        ("C0", "données personnelles"), ("C1", "facial recognition"), ("C1", "eu-us-dpf"), ("C1", "eu-us-dpf"),
        ("C2", "facial recognition")]


def test_unsubscribe_removes_one_and_says_when_there_was_none(make_store):
    one, other = make_store(), make_store()
    one.subscribe("C1", "topic", "cookies", "U1")
    one.subscribe("C1", "instrument", "gdpr", "U1")
    assert not other.unsubscribe("C1", "instrument", "cookies")  # the kind must match too
    assert not other.unsubscribe("C2", "topic", "cookies")
    assert other.unsubscribe("C1", "topic", "cookies")
    assert not one.unsubscribe("C1", "topic", "cookies")
    assert [(s.kind, s.value) for s in one.subscriptions("C1")] == [("instrument", "gdpr")]
    assert one.subscribe("C1", "topic", "cookies", "U2")  # and it can be added again


@pytest.mark.parametrize("kind,value,error", [
    ("law", "gdpr", "kind must be one of instrument, topic"), ("topic", "", "needs a value"),
    ("topic", "   ", "needs a value"), ("topic", "x" * 101, "at most 100 characters, got 101"),
])
def test_a_bad_subscription_is_refused_and_nothing_is_written(store, kind, value, error):
    with pytest.raises(ValueError, match=error):
        store.subscribe("C1", kind, value, "U1")
    assert store.subscriptions() == []
    assert store.subscribe("C1", "topic", "x" * 100, "U1")  # 100 characters is allowed


def test_one_of_many_concurrent_subscriptions_to_the_same_value_wins(make_store):
    stores = [make_store(), make_store()]
    results, barrier = [], threading.Barrier(8)

    def subscribe(i: int) -> None:
        barrier.wait()
        results.append(stores[i % 2].subscribe("C1", "topic", "biometric data", f"U{i}"))

    threads = [threading.Thread(target=subscribe, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True] and len(stores[0].subscriptions("C1")) == 1


def test_retention_never_purges_subscriptions(make_store):
    store = make_store(retention_days=1)
    store.subscribe("C1", "instrument", "cn-pipl", "U1")
    store.record_answer("an old question", [1], "U1", "C1", "1.0")
    assert store.purge(now=time.time() + 3650 * DAY) == 1  # the answer went
    assert [s.value for s in make_store(retention_days=1).subscriptions("C1")] == ["cn-pipl"]  # purged at open too


def _details(generation: str = "gen-1", text: str = "The fine is EUR 5 million.") -> AnswerDetails:
    from bot.state.records import AnswerDetails, ShownHit, quote_sha256

    citation = {"bulletin": "Privacy digest", "publisher": "Firm LLP", "date": "2024-06-01", "section": "Fines",
                "item_number": 4, "item_title": "A fine", "paragraph": 2, "url": "https://example.com/b",
                "source_file": "digest-2024-06.txt", "char_start": 120, "char_end": 146, "page": None}
    hit = ShownHit(1, citation, text, quote_sha256(text), text, 0.71, 0.65, True, [11, 22],
                   [{"when": "2024-09", "kind": "in_force", "bulletin": "Later", "source_file": "later.txt"}])
    return AnswerDetails("mention", generation, "answers", None, {"as_of": "2024-06"}, "2024-06", 0, [hit])


def test_an_answer_record_keeps_generation_tier_filters_and_each_citation_with_its_quote_hash(make_store):
    import hashlib

    one, other = make_store(), make_store()
    details = _details()
    answer_id = one.record_answer("what fine?", [11, 22], "U1", "C1", "1.0", details=details, at=1_000.0 * DAY)
    record = other.answer(answer_id)
    assert record.details == details and record.created_at == 1_000.0 * DAY
    (hit,) = record.details.hits
    assert hit.citation["item_number"] == 4 and hit.citation["char_start"] == 120 and hit.citation["page"] is None
    assert hit.sha256 == hashlib.sha256(b"The fine is EUR 5 million.").hexdigest()
    assert record.details.generation == "gen-1" and record.details.as_of == "2024-06"


def test_answers_are_listed_newest_first_and_filtered_by_time_user_and_channel(make_store):
    store = make_store(retention_days=3650)
    now = time.time()
    ids = [store.record_answer(f"q{i}", [i], user, channel, None, details=_details(), at=now - (5 - i) * DAY)
           for i, (user, channel) in enumerate([("U1", "C1"), ("U2", "C1"), ("U1", "C2"), (None, "C2"), ("U1", "C1")])]
    assert [r.id for r in store.answers()] == ids[::-1]
    assert [r.id for r in store.answers(since=now - 3.5 * DAY)] == ids[:1:-1][:3]
    assert [r.id for r in store.answers(since=now - 4.5 * DAY, until=now - 1.5 * DAY)] == [ids[3], ids[2], ids[1]]
    assert [r.id for r in store.answers(user="U1")] == [ids[4], ids[2], ids[0]]
    assert [r.id for r in store.answers(channel="C2")] == [ids[3], ids[2]]
    assert [r.id for r in store.answers(user="U1", channel="C1")] == [ids[4], ids[0]]
    assert store.answers(user="nobody") == []


def test_an_answer_recorded_before_the_audit_trail_has_no_details(store):
    answer_id = store.record_answer("old question", [5], "U1", "C1", None)
    assert store.answer(answer_id).details is None and store.answers()[0].details is None


def test_a_thumbs_down_keeps_the_passage_the_voter_chose(make_store):
    store = make_store()
    answer_id = store.record_answer("", [11], None, "C1", None, details=_details())
    store.record_feedback(answer_id, "U2", -1)
    chosen = store.record_feedback(answer_id, "U2", -1, choice=1)
    none = store.record_feedback(answer_id, "U3", -1, choice=0)
    assert (chosen.choice, none.choice) == (1, 0)
    assert [(f.user, f.vote, f.choice) for f in make_store().feedback()][-2:] == [("U2", -1, 1), ("U3", -1, 0)]
    assert make_store().feedback(since=time.time() + 60) == []
    with pytest.raises(ValueError, match="passage choice"):
        store.record_feedback(answer_id, "U2", 1, choice=1)
    with pytest.raises(ValueError, match="passage choice"):
        store.record_feedback(answer_id, "U2", -1, choice=-2)


def test_retention_deletes_answer_records_with_their_details(make_store):
    store = make_store(retention_days=30)
    now = time.time()
    old = store.record_answer("", [1], None, "C1", None, details=_details(), at=now - 31 * DAY)
    kept = store.record_answer("", [2], None, "C1", None, details=_details(), at=now - 29 * DAY)
    assert store.purge(now=now + 1) == 1
    assert [r.id for r in store.answers()] == [kept] and store.answer(old) is None


def test_a_changed_vote_replaces_the_passage_choice_with_it(store):
    answer_id = store.record_answer("", [11], None, "C1", None, details=_details())
    store.record_feedback(answer_id, "U2", -1, 100.0)
    store.record_feedback(answer_id, "U2", -1, 101.0, choice=1)
    assert [(f.vote, f.choice) for f in store.feedback()] == [(-1, 1)]
    store.record_feedback(answer_id, "U2", 1, 102.0)  # changed to 👍: no passage choice any more
    assert [(f.vote, f.choice) for f in store.feedback()] == [(1, None)]
    store.record_feedback(answer_id, "U2", -1, 90.0, choice=0)  # cast earlier (written late, after an outage)
    assert [(f.vote, f.choice) for f in store.feedback()] == [(1, None)]
