"""``/bulletin timeline NAME`` through the real bolt App, signed HTTP requests and a fake Slack on 127.0.0.1."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.slack import blocks as bk
from bot.slack import mrkdwn
from bot.slack.listeners.commands import timeline_request
from bot.slack.timeline_blocks import render_timeline
from retrieval.chunking import Citation, Passage
from retrieval.instruments.timeline import InstrumentIndex, build_instruments
from retrieval.instruments.view import rows
from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest, all_text, buttons
from tests.slack_fake import RESPONSE_URL, FakeSlack


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def searcher(indexed: Path) -> Searcher:
    return Searcher(indexed, HashEncoder())


@pytest.fixture
def bot(fake, searcher, tmp_path):
    with BotUnderTest(fake, searcher, tmp_path) as b:
        yield b


def ask(bot, fake, text: str, name: str = "t"):
    """Send ``/bulletin text`` and return the private reply (the one call to the response URL)."""
    status, _ = bot.send_command(text, fake.response_url(name))
    assert status == 200
    reply = fake.wait_for(RESPONSE_URL)[0]
    bot.wait_idle()
    assert len(fake.calls_to(RESPONSE_URL)) == 1 and not fake.calls_to("chat.postMessage")
    return reply


def within_limits(message_blocks: list[dict]) -> None:
    assert len(message_blocks) <= bk.MAX_BLOCKS
    assert bk.message_chars(message_blocks) <= bk.MAX_MESSAGE_CHARS
    for b in message_blocks:
        Block.parse(b).validate_json()
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= bk.MAX_SECTION_CHARS


def event_sections(reply) -> list[tuple[str, str, str]]:
    """(date line, quote without "> " and bold marks, the citation context after it) per event."""
    bl = reply.body["blocks"]
    out = []
    for i, b in enumerate(bl):
        if b["type"] == "section" and b["text"].get("verbatim"):
            first, _, rest = b["text"]["text"].partition("\n")
            quote = "\n".join(line[2:] for line in rest.split("\n"))
            out.append((first, quote, bl[i + 1]["elements"][0]["text"]))
    return out


@pytest.mark.parametrize("text,key", [("timeline AI Act", "eu-ai-act"), ("timeline artificial intelligence act", "eu-ai-act"),
                                      ("timeline DPF", "eu-us-dpf"),
                                      ("timeline of the EU-US Data Privacy Framework", "eu-us-dpf")])
def test_timeline_is_private_with_verbatim_quotes_and_citations_in_date_order(bot, fake, searcher, text, key):
    reply = ask(bot, fake, text)
    assert reply.body["response_type"] == "ephemeral"
    index = searcher.instruments()
    expected = rows(index.events_of(key))
    name = index.table.instruments[key].name
    assert reply.body["text"].startswith(f"Timeline of {mrkdwn.escape(name)}")
    within_limits(reply.body["blocks"])
    shown = event_sections(reply)
    assert len(shown) == len(expected) >= 3  # the whole timeline fits
    assert len({r.citation.source_file for r in expected}) >= 2
    for (head, quote, cite), row in zip(shown, expected):
        assert quote == mrkdwn.escape(row.text)  # verbatim (escaped), never cut: these sentences are short
        assert head == f"*{mrkdwn.escape(row.placed())}* · {mrkdwn.escape(' · '.join(row.labels))}"
        c = row.citation
        assert cite.startswith(f"<{c.url}|") and f" · {c.date} · " in cite and f"¶{c.paragraph}" in cite
    whens = [re.sub(r"^\(bulletin of (.*)\)$", r"\1", h[1:h.index("*", 1)]) for h, _, _ in shown]
    assert whens == sorted(whens)
    assert ":scissors:" not in all_text(reply)
    assert bk.ACTION_SHARE not in buttons(reply)


def test_a_sentence_stating_two_kinds_is_one_event(bot, fake):
    heads = [h for h, _, _ in event_sections(ask(bot, fake, "timeline Regulations on Promoting and Regulating "
                                                           "Cross-Border Data"))]
    assert "*2024-03-22* · adopted · in force" in heads


def test_timeline_alone_gives_the_usage_and_the_instruments(bot, fake, searcher):
    reply = ask(bot, fake, "timeline")
    assert reply.body["response_type"] == "ephemeral"
    within_limits(reply.body["blocks"])
    text = all_text(reply)
    assert "/bulletin timeline NAME" in reply.body["text"]
    for inst in searcher.instruments().known():
        assert mrkdwn.escape(inst.name) in text
    items = len(searcher.instruments().timeline("eu-ai-act"))
    assert items >= 2 and f"AI Act (EU) — {items} items" in text


def test_unknown_instrument_names_the_nearest(bot, fake):
    reply = ask(bot, fake, "timeline Digital Servises Act")
    assert reply.body["response_type"] == "ephemeral"
    assert reply.body["text"].startswith("No instrument called “Digital Servises Act” in the bulletins. "
                                         "Nearest: Digital Services Act (DSA)")
    within_limits(reply.body["blocks"])


def test_a_question_starting_with_timeline_is_still_searched(bot, fake):
    reply = ask(bot, fake, "timeline for breach notifications under the Cybersecurity Law?")
    assert "Timeline of" not in reply.body["text"] and "No instrument called" not in reply.body["text"]
    assert "“timeline for breach notifications under the Cybersecurity Law?”" in reply.body["text"]  # the echo
    assert reply.body["response_type"] == "ephemeral"


@pytest.mark.parametrize("text,want", [
    ("timeline AI Act", ("AI Act", False)), ("Timeline: of the DPF", ("the DPF", False)),
    ("timeline", ("", False)), ("timeline for breach notice", ("breach notice", True)),
    ("timeline GDPR?", ("GDPR?", True)), ("timelines of the AI Act", None), ("what is the timeline", None),
])
def test_timeline_request_shapes(text, want):
    assert timeline_request(text) == want


def test_help_mentions_the_timeline(bot, fake):
    reply = ask(bot, fake, "help")
    assert "/bulletin timeline AI Act" in reply.body["text"] and "/bulletin your question" in reply.body["text"]


def test_no_index_says_so(fake, tmp_path):
    with BotUnderTest(fake, Searcher(tmp_path / "empty", HashEncoder()), tmp_path) as bot:
        reply = ask(bot, fake, "timeline AI Act")
    assert "No bulletins are indexed yet" in reply.body["text"]


def long_life(n: int = 60) -> InstrumentIndex:
    """The PIPL reported by n monthly bulletins, each a long dated sentence with a link."""
    start = date(2019, 1, 1)
    passages = []
    for i in range(n):
        day = start + timedelta(days=31 * i)
        text = (f"On {day.day} {day:%B %Y} the NPC amended the PIPL again (round {i}), " + "with more detail " * 20
                ).rstrip() + "."
        c = Citation(f"Bulletin {i}", "P", day.isoformat()[:7], "News", 1, f"Item {i}", 1,
                     f"https://example.com/b{i}?a=1&b=2", f"b{i:02d}.txt", 0, len(text))
        passages.append(Passage(i, text, c, "", 1, 1))
    return build_instruments(passages)


def test_a_long_timeline_shows_the_newest_events_and_says_how_many_older_were_left_out():
    index = long_life()
    all_rows = rows(index.events_of("cn-pipl"))
    assert len(all_rows) == 60
    message = render_timeline(index.table.instruments["cn-pipl"], all_rows)
    within_limits(message.blocks)
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section" and b["text"].get("verbatim")]
    kept = len(texts)
    assert 1 <= kept < 60
    assert all(mrkdwn.escape(r.text) in t for r, t in zip(all_rows[-kept:], texts))  # the newest, oldest first
    assert "(round 59)" in texts[-1] and "(round 0)" not in "".join(texts)
    oldest_left, newest_left = all_rows[0].when, all_rows[60 - kept - 1].when
    note = f"The {60 - kept} older events ({oldest_left} to {newest_left}) are left out"
    assert note in message.blocks[1]["elements"][0]["text"] and note in message.text
    assert "60 events from 60 bulletins" in message.text
    assert len(message.text) <= bk.MAX_FALLBACK_CHARS


class _Instruments:
    """A searcher holding a canned instrument index (search is never called for a timeline)."""

    def __init__(self, index: InstrumentIndex):
        self.index = index

    def instruments(self) -> InstrumentIndex:
        return self.index

    def search(self, query, top_k=5):
        raise AssertionError("a timeline is not a search")


def test_a_long_timeline_through_slack_is_cut_with_the_note(fake, tmp_path):
    with BotUnderTest(fake, _Instruments(long_life()), tmp_path) as bot:
        reply = ask(bot, fake, "timeline PIPL")
    within_limits(reply.body["blocks"])
    assert "older events" in all_text(reply) and "(round 59)" in all_text(reply)
    assert "&amp;b=2|Bulletin 59>" in all_text(reply)  # the link, escaped as Slack wants
