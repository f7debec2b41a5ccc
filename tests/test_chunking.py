"""Passages: offsets round-trip, citations, and the sentence-aligned split of long paragraphs."""

from __future__ import annotations

import re

import pytest

from retrieval.chunking import approximate_token_count, passage_id, passages_from, split_paragraph
from retrieval.intake.parser import parse_bulletin
from retrieval.intake.sources import read_bulletin
from tests.conftest import CORPUS


def _words(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_offsets_round_trip_for_every_passage(path):
    b = read_bulletin(path)
    passages = passages_from(b)
    assert passages
    ids = [p.id for p in passages]
    assert len(set(ids)) == len(ids)
    for p in passages:
        c = p.citation
        assert b.source_text[c.char_start:c.char_end] == p.text
        assert approximate_token_count(p.text) <= 200
        assert c.source_file == path.name and c.bulletin == b.title


def test_every_word_of_a_long_paragraph_lands_in_some_passage():
    b = read_bulletin(CORPUS / "privacy-news-digest-2024-10.txt")
    passages = passages_from(b)
    for _, _, para in b.paragraphs():
        pieces = [p for p in passages if para.char_start <= p.citation.char_start < para.char_end]
        assert re.findall(r"\S+", para.text) == [w for p in pieces for w in re.findall(r"\S+", p.text)]


def test_long_paragraph_is_split_at_sentence_boundaries():
    sentences = [f"Sentence {i} says {_words(20, 'w')}." for i in range(20)]  # ~20 x 25 tokens
    text = " ".join(sentences)
    spans = split_paragraph(text, max_tokens=100)
    assert len(spans) > 1
    for s, e in spans:
        piece = text[s:e]
        assert piece.startswith("Sentence ") and piece.endswith(".")
        assert approximate_token_count(piece) <= 100


def test_a_sentence_longer_than_the_window_is_split_between_words():
    text = _words(300, "x") + "."
    spans = split_paragraph(text, max_tokens=50)
    assert len(spans) >= 6
    rebuilt = " ".join(text[s:e] for s, e in spans)
    assert rebuilt == text


def test_short_paragraph_is_one_passage_and_max_tokens_is_validated():
    assert split_paragraph("Short one.", 200) == [(0, 10)]
    with pytest.raises(ValueError, match="max_tokens must be >= 8, got 2"):
        split_paragraph("x", 2)


def test_citation_carries_section_item_and_paragraph():
    text = "Regulatory developments\n\n1. First item\n\nFirst para.\n\nSecond para.\n\nEnforcement developments\n\n1. Fine\n\nA fine of RMB1.\n"
    b = parse_bulletin(text, "b.txt", {"title": "T", "date": "2020-01", "url": "https://x.org"})
    ps = passages_from(b)
    assert [(p.citation.section, p.citation.item_number, p.citation.paragraph) for p in ps] == [
        ("Regulatory developments", 1, 1), ("Regulatory developments", 1, 2), ("Enforcement developments", 1, 1)]
    last = ps[-1]
    assert last.citation.item_title == "Fine" and last.citation.url == "https://x.org"
    assert last.context == "T\nEnforcement developments\nFine"
    assert last.embedding_text.endswith("\nA fine of RMB1.")


def test_passage_ids_are_stable_and_content_derived():
    a = passage_id("f.txt", 0, 10, "some text")
    assert a == passage_id("f.txt", 0, 10, "some text") and a >= 0
    assert a != passage_id("f.txt", 0, 10, "some text!")
    assert a != passage_id("g.txt", 0, 10, "some text")


def test_a_run_without_spaces_is_cut_into_windows():
    text = "x" * 5000 + " tail."
    spans = split_paragraph(text, max_tokens=50, count_tokens=lambda t: len(t) // 10 + 1)
    assert len(spans) >= 10 and all(e - s <= 500 for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text.replace(" ", "")


def test_abbreviations_do_not_end_sentences():
    from retrieval.chunking import _sentence_spans

    t = "As outlined in Sec. 5 of the Act. Art. 4 requires e.g. training. Mr. J. Smith agreed."
    assert [t[a:b] for a, b in _sentence_spans(t)] == [
        "As outlined in Sec. 5 of the Act.", "Art. 4 requires e.g. training.", "Mr. J. Smith agreed."]
