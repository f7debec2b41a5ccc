"""The real bolt App over real HTTP, with signed requests, against a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.slack import blocks as bk
from bot.slack import mrkdwn
from retrieval.chunking import Citation, Passage
from retrieval.ingest import ingest
from retrieval.search.answer import Answer, Hit
from retrieval.search.searcher import Searcher
from tests.slack_client import BotUnderTest, all_text, buttons, mention, message
from tests.slack_fake import RESPONSE_URL, FakeSlack

EVIL = ("- **Broadcast trap**: Attention <!channel> and <@U123>: read <https://evil.example|gov.cn> now & then "
        "about zebra quokka penalties.\n")
GEO_QUESTION = "can an employer geolocate remote workers in smart working"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """The shipped corpus plus one bulletin whose passage holds Slack markup, indexed by the fake encoder."""
    from tests.conftest import CORPUS
    from tests.fakes import HashEncoder

    root = tmp_path_factory.mktemp("slack")
    extra = root / "extra"
    extra.mkdir()
    (extra / "evil-2025-01.md").write_text("# Evil bulletin\n\n## Warnings\n\n" + EVIL)
    (extra / "evil-2025-01.meta.toml").write_text('title = "Evil bulletin"\ndate = "2025-01-02"\n'
                                                  'url = "https://example.com/evil?a=1&b=2"\n')
    report = ingest([CORPUS], root / "data", HashEncoder())
    assert not report.errors, report.errors
    report = ingest([extra], root / "evil", HashEncoder())
    assert not report.errors, report.errors
    return root / "data"


class Forced:
    """A real Searcher whose answers are forced to count as answered (or not), whatever the calibration."""

    def __init__(self, searcher, answered: bool):
        self.searcher, self.answered = searcher, answered

    def search(self, query, top_k=5):
        answer = self.searcher.search(query, top_k=top_k)
        tier = "answers" if self.answered else "related"
        return dataclasses.replace(answer, answered=self.answered, tier=tier, missing=None)


@pytest.fixture(scope="module")
def expected(data_dir) -> Answer:
    """What the retrieval core answers to GEO_QUESTION (the bot must quote these passages verbatim)."""
    from tests.fakes import HashEncoder

    return Forced(Searcher(data_dir, HashEncoder()), True).search(GEO_QUESTION, top_k=4)


def first_line(hit) -> str:
    """The start of a hit's text as it must appear quoted (escaped; bold markers ignored)."""
    return mrkdwn.escape(hit.text.split("\n")[0][:80]).replace("*", "")


def unquote(mrkdwn: str) -> str:
    """A rendered quote without its "> " line prefixes and bold markers."""
    return "\n".join(line[2:] for line in mrkdwn.split("\n")).replace("*", "")


def quoted(call) -> str:
    """Every quote of a recorded message, unquoted, joined."""
    return "\n".join(unquote(b["text"]["text"]) for b in call.body.get("blocks", [])
                     if b["type"] == "section" and b["text"].get("verbatim"))


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def bot(fake, data_dir, tmp_path):
    from tests.fakes import HashEncoder

    with BotUnderTest(fake, Forced(Searcher(data_dir, HashEncoder()), True), tmp_path) as b:
        yield b


def posts(fake, **match):
    """Successful chat.postMessage calls whose body has all of ``match``."""
    return [c for c in fake.calls_to("chat.postMessage")
            if c.status == 200 and all(c.body.get(k) == v for k, v in match.items())]


def test_mention_is_answered_once_in_its_thread_with_a_verbatim_quote(bot, fake, expected):
    status, _ = bot.send_event(mention(GEO_QUESTION, ts="100.1"))
    assert status == 200
    call = fake.wait_for("chat.postMessage")[0]
    bot.wait_idle()
    assert len(posts(fake)) == 1
    assert call.body["channel"] == "C1" and call.body["thread_ts"] == "100.1"
    assert call.body["text"]  # the plain fallback beside the blocks
    quotes = [b["text"]["text"] for b in call.body["blocks"] if b["type"] == "section" and b["text"]["verbatim"]]
    assert len(quotes) == 3 and all(unquote(q).startswith(first_line(h)) for q, h in zip(quotes, expected.hits))
    assert unquote(quotes[0]) == mrkdwn.escape(expected.hits[0].text).replace("*", "")
    assert "Passages that answer" in call.body["text"]
    assert {c.body["name"] for c in fake.calls_to("reactions.add")} == {"eyes"}
    assert {c.body["name"] for c in fake.calls_to("reactions.remove")} == {"eyes"}
    assert set(buttons(call)) >= {bk.ACTION_UP, bk.ACTION_DOWN, bk.ACTION_MORE}


def test_dm_is_answered_in_the_dm(bot, fake, expected):
    bot.send_event(message(GEO_QUESTION, ts="200.1", channel="D7"))
    call = fake.wait_for("chat.postMessage")[0]
    assert call.body["channel"] == "D7" and call.body.get("thread_ts") is None
    assert first_line(expected.hits[0]) in quoted(call)


def test_slash_command_is_acked_within_3_s_and_answered_privately_with_a_share_button(bot, fake, expected):
    start = time.monotonic()
    status, _ = bot.send_command(GEO_QUESTION, fake.response_url("cmd1"))
    assert status == 200 and time.monotonic() - start < 3.0
    reply = fake.wait_for(RESPONSE_URL)[0]
    assert reply.body["response_type"] == "ephemeral"
    assert first_line(expected.hits[0]) in quoted(reply)
    assert bk.ACTION_SHARE in buttons(reply)
    assert not fake.calls_to("chat.postMessage")


@pytest.mark.parametrize("text", ["help", "", "<@UBOT>"])
def test_slash_command_without_a_question_gets_the_usage(bot, fake, text):
    bot.send_command(text, fake.response_url("help"))
    reply = fake.wait_for(RESPONSE_URL)[0]
    assert "/bulletin your question" in reply.body["text"]


def test_bare_mention_gets_the_usage_in_the_thread(bot, fake):
    bot.send_event(mention("", ts="300.1"))
    call = fake.wait_for("chat.postMessage")[0]
    assert call.body["thread_ts"] == "300.1" and "/bulletin your question" in call.body["text"]


def test_an_event_delivered_three_times_is_answered_once(bot, fake):
    body = bot.event_body(mention(GEO_QUESTION, ts="400.1"), event_id="EvRETRY")
    for retry in (None, "1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        assert bot.post(body, "application/json", headers=headers)[0] == 200
    fake.wait_for("chat.postMessage")
    bot.wait_idle()
    assert len(posts(fake)) == 1


def test_app_mention_and_message_for_one_ts_give_one_answer(bot, fake):
    bot.send_event(mention(GEO_QUESTION, ts="500.1"), event_id="EvA")
    bot.send_event(message(f"<@UBOT> {GEO_QUESTION}", ts="500.1", channel="C1", channel_type="channel"),
                   event_id="EvB")
    fake.wait_for("chat.postMessage")
    bot.wait_idle()
    assert len(posts(fake)) == 1


@pytest.mark.parametrize("extra", [{"bot_id": "B999"}, {"bot_profile": {"id": "B999"}}, {"subtype": "bot_message"}])
def test_another_bots_mention_gets_nothing(bot, fake, extra):
    bot.send_event(mention(GEO_QUESTION, ts="600.1", **extra))
    bot.send_event(message(GEO_QUESTION, ts="600.2", channel="D1", **extra))
    bot.wait_idle()
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


@pytest.mark.parametrize("extra", [{"subtype": "message_changed"}, {"subtype": "message_deleted"},
                                   {"subtype": "channel_join"}, {"hidden": True}])
def test_edits_deletions_joins_and_hidden_messages_are_ignored(bot, fake, extra):
    bot.send_event(message(GEO_QUESTION, ts="650.1", **extra))
    bot.wait_idle()
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


def test_channel_message_without_a_mention_is_ignored(bot, fake):
    bot.send_event(message(GEO_QUESTION, ts="660.1", channel="C1", channel_type="channel"))
    bot.wait_idle()
    assert not fake.calls_to("chat.postMessage")


@pytest.mark.parametrize("how", ["bad signature", "stale timestamp"])
def test_unverified_requests_get_401_and_nothing_is_posted(bot, fake, how):
    body = bot.event_body(mention(GEO_QUESTION, ts="700.1"))
    if how == "bad signature":
        status, _ = bot.post(body, "application/json", signature="v0=" + "0" * 64)
    else:
        status, _ = bot.post(body, "application/json", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    bot.wait_idle()
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


def test_slack_markup_in_a_passage_is_escaped(fake, data_dir, tmp_path):
    from tests.fakes import HashEncoder

    with BotUnderTest(fake, Searcher(data_dir.parent / "evil", HashEncoder()), tmp_path) as bot:
        bot.send_event(mention("zebra quokka penalties", ts="800.1"))
        call = fake.wait_for("chat.postMessage")[0]
    body = all_text(call)
    assert "&lt;!channel&gt;" in body and "&lt;@U123&gt;" in body and "&lt;https://evil.example|gov.cn&gt;" in body
    assert "<!channel>" not in body and "<@U123>" not in body and "<https://evil" not in body
    assert "<https://example.com/evil?a=1&amp;b=2|Evil bulletin>" in body  # the citation link, escaped


def test_question_echo_is_escaped(bot, fake):
    bot.send_event(mention("what about &lt;!here&gt; zebra quokka", ts="810.1"))
    call = fake.wait_for("chat.postMessage")[0]
    assert "<!here>" not in all_text(call) and "&lt;!here&gt;" in all_text(call)


class _StubSearcher:
    """Returns one canned answer (or raises), whatever the query."""

    def __init__(self, answer=None, error=None):
        self.answer, self.error = answer, error

    def search(self, query, top_k=5):
        if self.error:
            raise self.error
        return Answer(query, self.answer.hits[:top_k], self.answer.answered)


def _long_answer(chars: int = 20_000) -> Answer:
    text = ("The authority fined the company <!channel> & more. " * (chars // 50 + 1))[:chars]
    hits = [Hit(Passage(i, text, Citation("Long bulletin", "P", "2025-01", "S", i, "Long item", 1,
                                          "https://example.com/long", "long.md", 0, chars), ""), 0.9 - i / 100, i)
            for i in range(1, 5)]
    return Answer("long", hits, True)


def test_a_20000_character_passage_gives_valid_blocks_within_every_limit(fake, tmp_path):
    with BotUnderTest(fake, _StubSearcher(_long_answer()), tmp_path) as bot:
        bot.send_event(mention("anything long", ts="900.1"))
        call = fake.wait_for("chat.postMessage")[0]
    blocks = call.body["blocks"]
    assert len(blocks) <= bk.MAX_BLOCKS and bk.message_chars(blocks) <= bk.MAX_MESSAGE_CHARS
    for b in blocks:
        Block.parse(b).validate_json()
    assert "quote cut at" in all_text(call) and "<https://example.com/long|read the whole passage>" in all_text(call)


def test_a_429_is_retried_after_retry_after_and_posted_once(bot, fake):
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    bot.send_event(mention(GEO_QUESTION, ts="1000.1"))
    fake.wait_for("chat.postMessage", timeout=10)
    bot.wait_idle()
    attempts = fake.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After honoured


def test_not_in_channel_answers_privately_in_a_dm(bot, fake, expected):
    fake.fail_next("chat.postMessage", "not_in_channel")
    bot.send_event(mention(GEO_QUESTION, ts="1100.1", user="U5"))
    fake.wait_for("chat.postMessage", count=2)
    bot.wait_idle()
    assert fake.calls_to("conversations.open")[0].body["users"] == "U5"
    dm = posts(fake, channel="DU5")
    assert len(dm) == 2 and first_line(expected.hits[0]) in quoted(dm[1])


def test_a_failed_search_tells_the_user(fake, tmp_path):
    with BotUnderTest(fake, _StubSearcher(error=RuntimeError("boom")), tmp_path) as bot:
        bot.send_event(mention(GEO_QUESTION, ts="1200.1"))
        call = fake.wait_for("chat.postMessage")[0]
    assert call.body["thread_ts"] == "1200.1" and "search failed" in call.body["text"]


def test_no_index_says_so(fake, tmp_path):
    from tests.fakes import HashEncoder

    with BotUnderTest(fake, Searcher(tmp_path / "empty", HashEncoder()), tmp_path) as bot:
        bot.send_command(GEO_QUESTION, fake.response_url("x"))
        reply = fake.wait_for(RESPONSE_URL)[0]
    assert "No bulletins are indexed yet" in reply.body["text"]


def test_no_confident_answer_lists_the_nearest_items_labelled(fake, data_dir, tmp_path):
    from tests.fakes import HashEncoder

    with BotUnderTest(fake, Forced(Searcher(data_dir, HashEncoder()), False), tmp_path) as bot:
        bot.send_event(mention("xylophone", ts="1300.1"))
        call = fake.wait_for("chat.postMessage")[0]
    assert "No confident answer" in call.body["text"] and "do *not* answer" in all_text(call)
    assert any(b["type"] == "section" and b["text"].get("verbatim") for b in call.body["blocks"])


def test_feedback_is_recorded_with_query_and_passage_ids(fake, data_dir, tmp_path):
    from tests.fakes import HashEncoder

    bot = BotUnderTest(fake, Forced(Searcher(data_dir, HashEncoder()), True), tmp_path, log_questions=True)
    bot.send_event(mention(GEO_QUESTION, ts="1400.1", user="U9"))
    answer = fake.wait_for("chat.postMessage")[0]
    up = buttons(answer)[bk.ACTION_UP]
    bot.click(up, user="U9", message={"ts": "1800000000.000001", "thread_ts": "1400.1"},
              response_url=fake.response_url("fb"))
    thanks = fake.wait_for(RESPONSE_URL)[0]
    assert "feedback is recorded" in thanks.body["text"] and thanks.body["replace_original"] is False
    bot.close()
    (fb,) = bot.store.feedback()
    assert (fb.query, fb.user, fb.vote) == (GEO_QUESTION, "U9", 1) and len(fb.passage_ids) >= 3


def test_three_thumbs_up_by_one_user_count_once_and_a_change_of_mind_replaces_the_vote(bot, fake):
    bot.send_event(mention(GEO_QUESTION, ts="1410.1", user="U9"))
    answer = fake.wait_for("chat.postMessage")[0]
    where = {"message": {"ts": "1800000000.000001", "thread_ts": "1410.1"}, "response_url": fake.response_url("fb")}
    for _ in range(3):
        bot.click(buttons(answer)[bk.ACTION_UP], user="U9", **where)
    bot.click(buttons(answer)[bk.ACTION_UP], user="U8", **where)
    bot.wait_idle()
    assert len(fake.wait_for(RESPONSE_URL, 4)) == 4  # every click is thanked
    assert sorted((f.user, f.vote) for f in bot.store.feedback()) == [("U8", 1), ("U9", 1)]
    bot.click(buttons(answer)[bk.ACTION_DOWN], user="U9", **where)
    bot.wait_idle()
    assert sorted((f.user, f.vote) for f in bot.store.feedback()) == [("U8", 1), ("U9", -1)]


def test_more_results_posts_the_next_hits_in_the_thread(bot, fake):
    bot.send_event(mention(GEO_QUESTION, ts="1500.1"))
    first = fake.wait_for("chat.postMessage")[0]
    bot.click(buttons(first)[bk.ACTION_MORE], message={"ts": first.body.get("ts", "1800000000.000001"),
                                                      "thread_ts": "1500.1"}, response_url=fake.response_url("m"))
    second = fake.wait_for("chat.postMessage", count=2)[1]
    assert second.body["thread_ts"] == "1500.1"
    quotes = lambda c: [b["text"]["text"] for b in c.body["blocks"] if b["type"] == "section" and b["text"]["verbatim"]]  # noqa: E731
    assert quotes(second) and not set(quotes(second)) & set(quotes(first))
    assert "*[4]*" in all_text(second)


def test_more_results_in_a_dm_stays_beside_the_answer_and_stops_when_exhausted(bot, fake):
    bot.send_event(message(GEO_QUESTION, ts="1550.1", channel="D4"))
    first = fake.wait_for("chat.postMessage")[0]
    more = buttons(first)[bk.ACTION_MORE]
    bot.click(more, channel="D4", message={"ts": "1800000000.000001"}, response_url=fake.response_url("m"))
    second = fake.wait_for("chat.postMessage", count=2)[1]
    assert second.body["channel"] == "D4" and second.body.get("thread_ts") is None
    bot.click({**more, "value": more["value"].split(":")[0] + ":50"}, channel="D4",
              message={"ts": "1800000000.000001"}, response_url=fake.response_url("m"))
    assert "No more results" in fake.wait_for(RESPONSE_URL)[0].body["text"]


def test_share_in_channel_posts_the_private_answer_and_removes_it(bot, fake, expected):
    bot.send_command(GEO_QUESTION, fake.response_url("share"), user="U3", channel="C8")
    private = fake.wait_for(RESPONSE_URL)[0]
    bot.click(buttons(private)[bk.ACTION_SHARE], user="U3", channel="C8", ephemeral=True,
              response_url=fake.response_url("share"))
    shared = fake.wait_for("chat.postMessage")[0]
    assert shared.body["channel"] == "C8" and "Shared by <@U3>" in all_text(shared)
    assert first_line(expected.hits[0]) in quoted(shared)
    fake.wait_for(RESPONSE_URL, where=lambda c: c.body.get("delete_original") is True)


@pytest.mark.parametrize("follow", [True, False])
def test_following_own_threads_is_an_option(fake, data_dir, tmp_path, follow):
    from tests.fakes import HashEncoder

    with BotUnderTest(fake, Forced(Searcher(data_dir, HashEncoder()), True), tmp_path,
                      follow_threads=follow) as bot:
        bot.send_event(mention(GEO_QUESTION, ts="1600.1"))
        fake.wait_for("chat.postMessage")
        bot.wait_idle()
        bot.send_event(message("and what about fines for keeping emails", ts="1600.5", channel="C1",
                               channel_type="channel", thread_ts="1600.1"))
        bot.wait_idle()
        assert len(posts(fake, thread_ts="1600.1")) == (2 if follow else 1)


def test_mention_inside_a_thread_is_answered_in_that_thread(bot, fake):
    bot.send_event(mention(GEO_QUESTION, ts="1700.5", thread_ts="1700.1"))
    call = fake.wait_for("chat.postMessage")[0]
    assert call.body["thread_ts"] == "1700.1"


def test_manifest_declares_what_the_listeners_need():
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "im:write", "reactions:write"} <= scopes
    assert {"app_mention", "message.im"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/bulletin"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True and manifest["settings"]["interactivity"]["is_enabled"]


class Gated:
    """A searcher whose searches wait until the test opens the gate (the answer workers stay busy)."""

    def __init__(self, searcher):
        import threading

        self.searcher, self.gate, self.started = searcher, threading.Event(), threading.Semaphore(0)

    def search(self, query, top_k=5):
        self.started.release()
        assert self.gate.wait(10), "the test never opened the gate"
        return self.searcher.search(query, top_k=top_k)


def test_past_the_queue_bound_the_asker_is_told_to_try_again(fake, data_dir, tmp_path):
    from bot.slack.listeners.pool import BUSY
    from tests.fakes import HashEncoder

    searcher = Gated(Forced(Searcher(data_dir, HashEncoder()), True))
    with BotUnderTest(fake, searcher, tmp_path, workers=1, queue_size=1) as bot:
        try:
            bot.send_event(mention(GEO_QUESTION, ts="900.1"))
            assert searcher.started.acquire(timeout=5)  # the one worker is busy with it
            bot.send_event(mention(GEO_QUESTION, ts="900.2"))  # waits in the queue (size 1)
            deadline = time.monotonic() + 5
            while bot.app.responder.pool.pending < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            bot.send_event(mention(GEO_QUESTION, ts="900.3"))  # past the bound
            bot.send_command(GEO_QUESTION, fake.response_url("busy"))  # past the bound too
            busy_post = fake.wait_for("chat.postMessage", where=lambda c: c.body.get("thread_ts") == "900.3")[0]
            busy_reply = fake.wait_for(RESPONSE_URL)[0]
        finally:
            searcher.gate.set()
        bot.wait_idle()
    assert busy_post.body["channel"] == "C1" and BUSY in busy_post.body["text"]
    assert busy_reply.body["response_type"] == "ephemeral" and BUSY in busy_reply.body["text"]
    answered = {c.body["thread_ts"] for c in posts(fake) if "Passages that answer" in c.body["text"]}
    assert answered == {"900.1", "900.2"}
    assert BUSY == "I'm busy — try again in a minute."
