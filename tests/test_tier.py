"""The reply tier and per-hit labels (retrieval/search/tier.py): the four invariants, property-tested, and how
every rendering (terminal, --json, Slack blocks, fallback text) shows the same labels."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.formatting import format_answer
from bot.slack.blocks import render_answer
from retrieval.answerability.slots import Slot
from retrieval.answerability.verdicts import Entity, Question
from retrieval.chunking import Citation, Passage
from retrieval.search.answer import Answer, Hit
from retrieval.search.tier import quote_mentions, settle, violations

NAMES = ["Einwilligungsverwaltungsverordnung", "TikTok", "Türkiye", "CNIL", "Take It Down"]
FILLER = ["the", "authority", "fined", "a", "company", "on", "1 April 2025", "for", "data", "transfers", "—"]


def hit(rank: int, text: str, answers: bool | None, missing: str | None, score: float) -> Hit:
    c = Citation("Bulletin", None, "2025-05", "News", rank, f"Item {rank}", 1, None, f"b{rank}.txt", 0, len(text))
    return Hit(Passage(rank, text, c, ""), score, rank, answers=answers, missing=missing)


def variant(name: str, how: int) -> str:
    """The name as a quote may write it: cased otherwise, accents stripped, spaces doubled or broken."""
    if how == 0:
        return name.upper()
    if how == 1:
        return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()
    if how == 2:
        return name.replace(" ", "  \n ")
    return name.replace(" ", "-")


@st.composite
def cases(draw):
    asked = draw(st.sampled_from(NAMES))
    word = " ".join(asked.lower().replace("ü", "u").split())
    question = Question(f"when did {asked} take effect?", (Slot("date", "the date asked"),),
                        (Entity(word, (word,)),), frozenset(), frozenset(), frozenset())
    n = draw(st.integers(1, 6))
    hits = []
    for i in range(n):
        words = draw(st.lists(st.sampled_from(FILLER), min_size=1, max_size=12))
        if draw(st.booleans()):
            words.insert(draw(st.integers(0, len(words))), variant(asked, draw(st.integers(0, 3))))
        text = " ".join(words)
        answers = draw(st.sampled_from([True, False, False]))
        missing = None if answers else draw(st.sampled_from([f"“{word}”", "the date asked", None]))
        hits.append(hit(i + 1, text, answers, missing, 1.0 - i * draw(st.floats(0.0, 0.2))))
    return question, hits, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(cases())
def test_settle_keeps_every_invariant(case):
    question, hits, confident, off_topic = case
    tier, missing, out = settle(hits, question, off_topic=off_topic, confident=confident)
    assert violations(tier, missing, out, question) == []
    assert sorted(h.passage.id for h in out) == sorted(h.passage.id for h in hits)  # nothing lost or added
    assert [h.rank for h in out] == list(range(1, len(out) + 1))
    entity = question.entities[0].word
    answering = [h for h in hits if h.answers and quote_mentions(h, entity, question, None)]
    if answering and not off_topic:  # invariant 3: the first answering hit leads
        assert out[0].passage.id == answering[0].passage.id
    if tier == "answers":
        assert out[0].answers
    else:
        assert not any(h.answers for h in out)
    if missing == f"“{entity}”":  # invariant 1
        assert not any(quote_mentions(h, entity, question, None) for h in out)


def test_the_headline_never_says_unmentioned_what_a_quote_names():
    question = Question("When did the EinwV enter into force?", (Slot("date", "the date it takes effect"),),
                        (Entity("einwv", ("einwv",), True),), frozenset(), frozenset(), frozenset())
    hits = [hit(1, "The TDDDG applies to cookies.", False, "“einwv”", 0.9),
            hit(2, "EinwV allows users to make their choices once.", False, "the date it takes effect", 0.8)]
    tier, missing, out = settle(hits, question, off_topic=False, confident=True)
    assert tier == "related" and missing == "the date it takes effect"


def test_a_lower_answering_hit_leads_and_answers_only_near_the_first():
    question = Question("When did the EinwV enter into force?", (Slot("date", "the date it takes effect"),),
                        (Entity("einwv", ("einwv",), True),), frozenset(), frozenset(), frozenset())
    near = [hit(1, "The EinwV is voluntary.", False, "the date it takes effect", 0.90),
            hit(2, "EinwV came into force on 1 April 2025.", True, None, 0.89)]
    tier, _, out = settle(near, question, off_topic=False, confident=True)
    assert tier == "answers" and out[0].passage.id == 2 and out[0].rank == 1 and out[1].rank == 2
    far = [near[0], hit(2, "EinwV came into force on 1 April 2025.", True, None, 0.5)]
    tier, _, out = settle(far, question, off_topic=False, confident=True)
    assert tier == "related" and out[0].passage.id == 2 and not out[0].answers  # leads, labelled related


def test_every_rendering_shows_the_same_labels():
    question = Question("When did the EinwV enter into force?", (Slot("date", "the date it takes effect"),),
                        (Entity("einwv", ("einwv",), True),), frozenset(), frozenset(), frozenset())
    hits = [hit(1, "The EinwV is voluntary.", False, "the date it takes effect", 0.90),
            hit(2, "EinwV came into force on 1 April 2025.", True, None, 0.89)]
    tier, missing, out = settle(hits, question, off_topic=False, confident=True)
    answer = Answer(question.text, out, answered=tier == "answers", tier=tier, missing=missing)
    labels = [answer.label(h) for h in answer.hits]
    assert labels == ["answers", "related"]
    assert [h["label"] for h in answer.to_dict()["hits"]] == labels
    assert [h["answers"] for h in answer.to_dict()["hits"]] == [True, False]
    terminal = format_answer(answer)
    assert "[1] score 0.890  (answers)" in terminal and "[2] score 0.900  (related)" in terminal
    message = render_answer(answer)
    contexts = [b["elements"][0]["text"] for b in message.blocks if b["type"] == "context" and len(b["elements"]) > 1]
    assert ["answers" in contexts[0], "related" in contexts[1]] == [True, True]
    assert "[1] (answers)" in message.text and "[2] (related)" in message.text


def test_no_hit_answers_that_does_not_name_the_party_asked():
    question = Question("What did the CNIL fine PAP?", (Slot("money", "the amount asked"),),
                        (Entity("pap", ("pap",), True),), frozenset(), frozenset(), frozenset())
    hits = [hit(1, "CNIL fines PAP €100k for retention.", True, None, 0.9),
            hit(2, "CNIL fines TELEMAQUE €150k.", True, None, 0.85)]
    tier, _, out = settle(hits, question, off_topic=False, confident=True)
    assert tier == "answers" and out[0].answers and not out[1].answers and out[1].missing == "“pap”"
