"""``/bulletin subscribe|unsubscribe|subscriptions`` through the real bolt App over signed HTTP, against the
fake Slack, on the shipped corpus; then the digest those subscriptions filter."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.digest import DigestRunner, Spacer
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest
from tests.slack_fake import RESPONSE_URL, FakeSlack


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    from tests.conftest import CORPUS

    root = tmp_path_factory.mktemp("subs") / "data"
    assert not ingest([CORPUS], root, HashEncoder()).errors
    return root


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def searcher(data_dir):
    return Searcher(data_dir, HashEncoder())


@pytest.fixture
def bot(fake, searcher, tmp_path):
    with BotUnderTest(fake, searcher, tmp_path, digest_channels=("C1", "C2")) as b:
        yield b


def command(bot, fake, text: str, channel: str = "C1", user: str = "U1") -> str:
    """Send ``/bulletin text`` and return the private reply's text (its blocks, joined)."""
    name = f"r{len(fake.calls_to(RESPONSE_URL))}"
    start = time.monotonic()
    status, _ = bot.send_command(text, fake.response_url(name), user=user, channel=channel)
    assert status == 200 and time.monotonic() - start < 3.0
    reply = fake.wait_for(RESPONSE_URL, where=lambda c: c.path.endswith("/" + name))[-1]
    assert reply.body["response_type"] == "ephemeral"
    assert reply.body["text"]
    return "\n".join(b["text"]["text"] for b in reply.body["blocks"] if b["type"] == "section")


def test_subscribe_to_an_instrument_says_which_and_is_stored(bot, fake):
    said = command(bot, fake, "subscribe PIPL")
    assert said.startswith("Subscribed <#C1> to the instrument Personal Information Protection Law (PIPL). "
                           "From the next digest, <#C1> gets only the new items matching: PIPL.")
    [sub] = bot.store.subscriptions("C1")
    assert (sub.kind, sub.value, sub.created_by) == ("instrument", "cn-pipl", "U1")
    assert "already subscribed to the instrument" in command(bot, fake, "Subscribe to personal information protection law",
                                                             user="U2")
    assert len(bot.store.subscriptions("C1")) == 1 and not fake.calls_to("chat.postMessage")
    assert "Note:" not in said  # C1 is a digest channel


def test_subscribe_to_a_topic_and_the_nearest_instruments(bot, fake):
    said = command(bot, fake, "subscribe Facial Recognition")
    assert said.startswith("Subscribed <#C1> to the topic “facial recognition”: new items whose title, section or "
                           "text contain all of its words.")
    assert "close to the instrument" not in said
    near = command(bot, fake, "subscribe Digital Servises Act")
    assert "It is close to the instrument Digital Services Act (DSA)" in near
    assert "matching: “facial recognition”, “digital servises act”." in near
    assert [(s.kind, s.value) for s in bot.store.subscriptions("C1")] == [
        ("topic", "facial recognition"), ("topic", "digital servises act")]


@pytest.mark.parametrize("text,told", [
    ("subscribe", "Name an instrument (its name or acronym, e.g. PIPL) or a topic"),
    ("subscribe " + "word " * 25, "That is 124 characters; a subscription is at most 100"),
    ("unsubscribe", "Name an instrument"),
    ("subscribe &lt;&gt;", "“&lt;&gt;” has no letters or digits"),  # what Slack sends for "<>", echoed escaped
])
def test_an_empty_too_long_or_wordless_value_is_refused_with_the_usage(bot, fake, text, told):
    said = command(bot, fake, text)
    assert told in said and "`/bulletin subscribe PIPL`" in said and "<>" not in said
    assert bot.store.subscriptions() == []


def test_subscriptions_lists_them_or_says_every_item_comes(bot, fake):
    assert command(bot, fake, "subscriptions").startswith(
        "<#C1> has no subscriptions: its digest lists every new item. To narrow it: `/bulletin subscribe PIPL`")
    command(bot, fake, "subscribe DPF", user="U7")
    command(bot, fake, "subscribe facial recognition")
    command(bot, fake, "subscribe cookies", channel="C2")
    listed = command(bot, fake, "SUBSCRIPTIONS")
    day = datetime.now(timezone.utc).date().isoformat()
    assert listed.splitlines() == [
        "<#C1> gets only the new items matching one of its 2 subscriptions:",
        f"• the instrument EU-U.S. Data Privacy Framework (DPF) (added {day} by <@U7>)",
        f"• the topic “facial recognition” (added {day} by <@U1>)"]


def test_unsubscribe_removes_one_and_says_what_is_left(bot, fake):
    command(bot, fake, "subscribe PIPL")
    command(bot, fake, "subscribe facial recognition")
    assert command(bot, fake, "unsubscribe from pipl") == (
        "Unsubscribed <#C1> from the instrument Personal Information Protection Law (PIPL). It still gets only the "
        "new items matching: “facial recognition”.")
    assert command(bot, fake, "unsubscribe PIPL") == (
        "<#C1> is not subscribed to the instrument Personal Information Protection Law (PIPL). Its subscriptions: "
        "“facial recognition”.")
    assert command(bot, fake, "unsubscribe Facial-Recognition").endswith(
        "It has no subscriptions left: its digest lists every new item.")
    assert bot.store.subscriptions() == []


def test_a_channel_the_digest_is_not_posted_to_is_told_so(bot, fake):
    said = command(bot, fake, "subscribe PIPL", channel="C9")
    assert "Note: <#C9> is not among the channels the daily digest is posted to (DIGEST_CHANNELS)" in said
    assert [s.channel for s in bot.store.subscriptions()] == ["C9"]


def test_a_question_that_starts_like_a_subcommand_is_still_a_question(bot, fake):
    said = command(bot, fake, "subscriptions under the GDPR?")
    assert "subscriptions" not in said.split()[0] and "gets only" not in said and "has no subscriptions" not in said
    assert bot.store.subscriptions() == []


def test_a_store_failure_is_told_not_silent(bot, fake, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bot.store, "subscribe", broken)
    assert command(bot, fake, "subscribe PIPL").startswith("Sorry, changing the subscriptions failed.")


def test_the_digest_of_a_channel_subscribed_in_slack_lists_only_its_items(bot, fake, searcher):
    command(bot, fake, "subscribe DPF")
    client = WebClient(token="xoxb-test", base_url=fake.api_url, timeout=5)
    runner = DigestRunner(bot.store, client, lambda: searcher.index, spacer=Spacer(lambda s: None))
    outcomes = runner.run(["C1", "C2"], datetime.now(timezone.utc))
    assert [(o.channel, o.status) for o in outcomes] == [("C1", "posted"), ("C2", "posted")]
    posts = {c.body["channel"]: [] for c in fake.calls_to("chat.postMessage")}
    for c in fake.calls_to("chat.postMessage"):
        posts[c.body["channel"]].append(c.body)
    [c1] = posts["C1"]
    text = json.dumps(c1, ensure_ascii=False)
    assert "Filtered to your subscriptions: DPF (2 of " in text and "2 new items in 2 bulletins" in text
    assert "EU Parlaiment votes against US adequacy" in text
    assert len(posts["C2"]) > 1 and "Filtered" not in json.dumps(posts["C2"])  # C2 has no subscription: everything
