"""bot.slack.blocks: pure rendering, escaping and Slack's limits."""

from __future__ import annotations

import re

import pytest
from slack_sdk.models.blocks import Block

from bot.slack import blocks as bk
from bot.slack import mrkdwn
from retrieval.chunking import Citation, Passage
from retrieval.search.answer import Answer, Hit

BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def hit(text: str, rank: int = 1, url: str | None = "https://example.com/b", highlight=None, **cite) -> Hit:
    fields = dict(bulletin="Bulletin", publisher="P", date="2025-01-02", section="Enforcement", item_number=3,
                  item_title="Fine", paragraph=1, url=url, source_file="b.md", char_start=0, char_end=len(text))
    fields.update(cite)
    return Hit(Passage(rank, text, Citation(**fields), ""), 0.5, rank, highlight)


def answer(*hits: Hit, answered: bool = True, query: str = "what fine?") -> Answer:
    return Answer(query, list(hits), answered)


def check_limits(message: bk.Message) -> None:
    """Every limit Slack enforces, with slack_sdk's block models and our own totals."""
    assert message.text and len(message.text) <= bk.MAX_FALLBACK_CHARS
    assert 0 < len(message.blocks) <= bk.MAX_BLOCKS
    assert bk.message_chars(message.blocks) <= bk.MAX_MESSAGE_CHARS
    for b in message.blocks:
        Block.parse(b).validate_json()  # raises SlackObjectFormationError beyond a limit
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= bk.MAX_SECTION_CHARS
        if b["type"] == "context":
            assert len(b["elements"]) <= bk.MAX_CONTEXT_ELEMENTS
    for text in [message.text] + [b["text"]["text"] for b in message.blocks if b["type"] == "section"]:
        assert not BARE_AMPERSAND.search(text), "an entity was cut in half or & was left unescaped"


def test_escape_and_unescape():
    assert mrkdwn.escape("a & b <!channel> > c") == "a &amp; b &lt;!channel&gt; &gt; c"
    assert mrkdwn.unescape("a &amp;lt; b &lt;x&gt;") == "a &lt; b <x>"


@pytest.mark.parametrize("text, query", [
    ("<@UBOT> what fines &amp; penalties?", "what fines & penalties?"),
    ("<@UBOT|bulletin-bot>   fines  for &lt;schools&gt;", "fines for <schools>"),
    ("fines in <#C123|general> per <https://x.example/a|the CNIL>", "fines in #general per the CNIL"),
    ("<!here> <@UBOT> <https://x.example/a>", "https://x.example/a"),
    ("<@UBOT>", ""),
    (None, ""),
])
def test_clean_query(text, query):
    assert mrkdwn.clean_query(text, "UBOT") == query


def test_each_hit_is_an_escaped_verbatim_quote_with_a_linked_citation():
    msg = bk.render_answer(answer(hit("Fine of <b>5</b> & more.\nSecond <!channel> line.")), answer_id=7, more=True)
    check_limits(msg)
    quote, cite = msg.blocks[1], msg.blocks[2]
    assert quote["text"] == {"type": "mrkdwn", "verbatim": True,
                             "text": "> Fine of &lt;b&gt;5&lt;/b&gt; &amp; more.\n> Second &lt;!channel&gt; line."}
    line = cite["elements"][0]["text"]
    assert line.startswith("*[1]* <https://example.com/b|Bulletin> · 2025-01-02 · Enforcement · item 3: Fine · ¶1")
    actions = {e["action_id"]: e["value"] for e in msg.blocks[-1]["elements"]}
    assert actions == {bk.ACTION_UP: "7", bk.ACTION_DOWN: "7", bk.ACTION_MORE: "7:1"}
    assert "<!channel>" not in msg.text and "&lt;!channel&gt;" in msg.text


def test_highlight_is_bold_and_stays_escaped():
    text = "First sentence. The <fine> was 5 euros. Last."
    msg = bk.render_answer(answer(hit(text, highlight=(16, 39))))
    assert msg.blocks[1]["text"]["text"] == "> First sentence. *The &lt;fine&gt; was 5 euros.* Last."


def test_highlight_containing_stars_is_not_bolded():
    msg = bk.render_answer(answer(hit("A **b** c.", highlight=(0, 10))))
    assert msg.blocks[1]["text"]["text"] == "> A **b** c."


def test_untrusted_link_targets_are_not_linked():
    h1 = hit("x", url="javascript:alert(1)")
    h2 = hit("y", rank=2, url="https://e.example/a|b>c&d", bulletin="T <x> | y")
    msg = bk.render_answer(answer(h1, h2))
    assert msg.blocks[2]["elements"][0]["text"].startswith("*[1]* Bulletin · ")
    assert "<https://e.example/a%7Cb%3Ec&amp;d|T &lt;x&gt; | y>" in msg.blocks[4]["elements"][0]["text"]


def test_no_confident_answer_is_said_plainly_and_hits_labelled():
    msg = bk.render_answer(answer(hit("nearest"), answered=False))
    check_limits(msg)
    assert "No confident answer" in msg.blocks[0]["text"]["text"] and "do *not* answer" in msg.blocks[0]["text"]["text"]
    assert msg.text.startswith("No confident answer") and "do not answer" in msg.text


def test_nothing_found_is_never_silent():
    msg = bk.render_answer(answer())
    check_limits(msg)
    assert "found no passage" in msg.text


def test_a_20000_character_passage_is_cut_with_an_ellipsis_and_a_link():
    text = ("The authority fined the company & its parent <b>. " * 400)[:20_000]
    msg = bk.render_answer(answer(hit(text)), answer_id=1, share=True)
    check_limits(msg)
    quote = msg.blocks[1]["text"]["text"]
    assert len(quote) <= bk.MAX_SECTION_CHARS
    assert "…\n_(quote cut at " in quote and "of 20,000 characters — <https://example.com/b|read the whole passage>)_" in quote
    body = quote.split("…\n")[0]
    plain = mrkdwn.unescape("\n".join(line[2:] for line in body.split("\n")))
    assert text.startswith(plain)  # verbatim up to the cut


def test_a_cut_quote_without_url_names_the_source_file():
    msg = bk.render_answer(answer(hit("word " * 5000, url=None)))
    check_limits(msg)
    assert "the whole passage is in b.md" in msg.blocks[1]["text"]["text"]


@pytest.mark.parametrize("n, size, char", [(50, 20_000, "x "), (10, 20_000, "&<>"), (25, 2_900, "é "), (3, 10, "a")])
def test_limits_hold_whatever_the_hits(n, size, char):
    hits = [hit((char * size)[:size], rank=i + 1, item_title="T" * 500, bulletin="&" * 300) for i in range(n)]
    check_limits(bk.render_answer(answer(*hits, query="<&>" * 1000), answer_id=1, more=True, share=True))


def test_long_quotes_share_the_budget_short_ones_keep_theirs():
    short, long_ = "Short passage.", "long words " * 3000
    msg = bk.render_answer(answer(hit(short), hit(long_, rank=2), hit(long_, rank=3)))
    check_limits(msg)
    quotes = [b["text"]["text"] for b in msg.blocks if b["type"] == "section" and b["text"]["verbatim"]]
    assert quotes[0] == "> Short passage." and all("quote cut at" in q for q in quotes[1:])
    assert len(quotes[1]) > 2500


def test_usage_and_notices():
    assert "/bulletin your question" in bk.render_usage().text
    notice = bk.render_notice("bad <thing> & co")
    assert notice.text == "bad &lt;thing&gt; &amp; co" and notice.blocks[0]["text"]["text"] == notice.text


def test_one_citation_renderer_serves_answers_and_digest():
    from bot.slack.citations import render_citation

    c = Citation(bulletin="B <1>", publisher=None, url="https://x.test/b", date="2024-05-01", section="Fines",
                 item_number=2, item_title="A & B", paragraph=3, source_file="b.md", char_start=10, char_end=20)
    assert render_citation(c, rank=1, similarity=0.5) == (
        "*[1]* <https://x.test/b|B &lt;1&gt;> · 2024-05-01 · Fines · item 2: A &amp; B · ¶3 · similarity 0.50")
    assert render_citation(c, title="Bulletin", item_title=False, location=True) == (
        "<https://x.test/b|Bulletin> · 2024-05-01 · Fines · item 2 · ¶3 · b.md, chars 10–20")


@pytest.mark.parametrize("case", ["answers", "related-missing", "related-named", "related", "nothing", "empty"])
def test_every_surface_words_the_tier_as_the_answer_does(case):
    """The CLI, the Slack blocks and their fallback text say the tier in the words of Answer.headline."""
    from bot.cli.formatting import format_answer

    h = hit("The fine was <b>RMB 50,000</b> & more.")
    made = {"answers": Answer("fines & <co>", [h], True),
            "related-missing": Answer("fines & <co>", [h], False, missing="the amount asked"),
            "related-named": Answer("fines & <co>", [h], False, missing="“google”"),
            "related": Answer("fines & <co>", [h], False),
            "nothing": Answer("fines & <co>", [h], False, tier="nothing"),
            "empty": Answer("fines & <co>", [], False)}[case]
    msg = bk.render_answer(made)
    words = made.headline(quotes=made.tier != "nothing")
    slack_words = made.headline(quotes=made.tier != "nothing", show=mrkdwn.escape)
    assert slack_words in msg.blocks[0]["text"]["text"].replace("*", "")
    assert msg.text.startswith(slack_words)
    assert words in format_answer(made)
    assert "&amp; &lt;co&gt;" in msg.text and "& <co>" not in msg.text  # the user's words escaped, in Slack only
