"""Search: filters, one hit per item with a verbatim span, near-duplicates, BM25, abstention, offsets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.errors import ConfigurationError
from retrieval.index.lexical import LexicalIndex
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.calibration import Calibration, calibration_for, fit
from retrieval.search.filters import parse_filters
from retrieval.search.searcher import Searcher
from tests.conftest import ROOT


def _source(corpus: Path, name: str) -> str:
    return (corpus / name).read_text(encoding="utf-8")


def test_parse_filters_takes_them_out_of_the_query():
    q, f = parse_filters('fines section:enforcement since:2024-10 bulletin:"privacy news" until:2025')
    assert q == "fines"
    assert f == {"section": "enforcement", "since": "2024-10", "bulletin": "privacy news", "until": "2025"}
    assert parse_filters("what is a url like https://x.org/a:b?")[1] == {}


@pytest.mark.parametrize("query", ["x since:Oct-2024", "x until:2024/10", "x since:2024-13", "x until:2024-02-30"])
def test_bad_date_filter_is_a_clear_error(query):
    with pytest.raises(ConfigurationError, match=r"(since|until): must be a real date written YYYY, YYYY-MM or YYYY-MM-DD"):
        parse_filters(query)


def test_hits_are_verbatim_spans_one_per_item(indexed: Path, corpus_copy: Path, encoder):
    answer = Searcher(indexed, encoder).search("fine data protection authority", top_k=10)
    assert len(answer.hits) == 10
    keys = set()
    for hit in answer.hits:
        c = hit.citation
        assert _source(corpus_copy, c.source_file)[c.char_start:c.char_end] == hit.text
        key = (c.source_file, c.section, c.item_number if c.item_number is not None else ("p", c.paragraph))
        assert key not in keys
        keys.add(key)
        assert hit.passage.id in hit.passage_ids
        assert len(hit.text) <= 2000 or len(hit.passage_ids) == 1
    assert [h.rank for h in answer.hits] == list(range(1, 11))
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)


def test_span_covers_the_passages_it_lists(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("DORA delegated regulation ICT third-party providers", top_k=5)
    idx = PassageIndex.load(indexed)
    for hit in answer.hits:
        for p in idx.passages(hit.passage_ids).values():
            assert hit.citation.char_start <= p.citation.char_start and p.citation.char_end <= hit.citation.char_end
            assert p.text in hit.text


def test_section_and_date_filters_restrict_and_are_shown_back(indexed: Path, encoder):
    s = Searcher(indexed, encoder)
    answer = s.search("fine section:enforcement since:2024-10", top_k=10)
    assert answer.filters == {"section": "enforcement", "since": "2024-10"}
    assert answer.query == "fine"
    assert answer.hits
    for hit in answer.hits:
        assert "enforcement" in hit.citation.section.lower()
        assert hit.citation.date >= "2024-10"
    old = s.search("regulation", top_k=10, filters={"until": "2019-12"})
    assert old.hits and all(h.citation.date <= "2019-12" for h in old.hits)


def test_bulletin_and_publisher_filters(indexed: Path, encoder):
    s = Searcher(indexed, encoder)
    by_file = s.search("consent bulletin:techgdpr", top_k=5)
    assert by_file.hits and {h.citation.source_file for h in by_file.hits} == {"techgdpr-digest-2025-05-03-16.txt"}
    by_pub = s.search("consent", top_k=5, filters={"publisher": "morrison"})
    assert by_pub.hits and {h.citation.publisher for h in by_pub.hits} == {"Morrison Foerster (law firm)"}


def test_empty_filter_values_are_not_in_force(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("fine", top_k=3, filters={"section": "", "bulletin": "  "})
    assert answer.filters == {} and answer.hits


def test_undecodable_bytes_in_a_question_do_not_crash(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("\udcff\udcfe fines", top_k=2)
    assert answer.hits and "\udcff" not in answer.query


def test_an_empty_index_counts_as_nothing_indexed(tmp_path: Path, encoder):
    from retrieval.errors import IndexNotFoundError

    (tmp_path / "empty").mkdir()
    ingest([tmp_path / "empty"], tmp_path / "data", encoder, allow_empty=True)
    with pytest.raises(IndexNotFoundError, match="no bulletins indexed yet"):
        Searcher(tmp_path / "data", encoder).search("fines")


def test_filter_matching_nothing_gives_no_hits(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("fine section:nonexistent-section", top_k=3)
    assert answer.hits == [] and not answer.answered


def test_near_duplicate_passages_are_collapsed(tmp_path: Path, encoder):
    d = tmp_path / "c"
    d.mkdir()
    shared = "The regulator fined Acme Corp EUR 2 million for unlawful tracking of zebra enthusiasts."
    (d / "a.txt").write_text(f"Bulletin A\n\nNews\n\n1. Acme fined\n\n{shared}\n\n2. Other\n\nUnrelated news on cookies.\n")
    (d / "b.txt").write_text(f"Bulletin B\n\nRoundup\n\n1. Acme fined\n\n{shared}\n\n2. More\n\nSomething on transfers.\n")
    ingest([d], tmp_path / "data", encoder)
    answer = Searcher(tmp_path / "data", encoder).search("Acme fined zebra tracking", top_k=4)
    assert [h.text for h in answer.hits].count(shared) == 1


def test_best_sentence_is_marked_inside_the_quote(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("Nantong middle school hacked pornographic website", top_k=1)
    hit = answer.hits[0]
    assert hit.highlight is not None
    assert "pornographic" in hit.best_sentence
    assert hit.text[hit.highlight[0]:hit.highlight[1]] == hit.best_sentence
    assert hit.to_dict()["best_sentence"] == hit.best_sentence


def test_offset_gives_the_next_hits(indexed: Path, encoder):
    s = Searcher(indexed, encoder)
    first = s.search("data protection fine", top_k=3)
    more = s.search("data protection fine", top_k=3, offset=3)
    assert [h.rank for h in more.hits] == [4, 5, 6]
    assert not {h.passage.id for h in first.hits} & {h.passage.id for h in more.hits}
    assert [h.passage.id for h in s.search("data protection fine", top_k=6).hits] == \
        [h.passage.id for h in first.hits + more.hits]


@pytest.mark.parametrize("top_k", [0, 51, -1])
def test_top_k_is_validated(indexed: Path, encoder, top_k):
    with pytest.raises(ConfigurationError, match=f"top_k must be between 1 and 50, got {top_k}"):
        Searcher(indexed, encoder).search("x", top_k=top_k)


def test_empty_query_is_not_answered(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("   section:enforcement ", top_k=3)
    assert answer.hits == [] and not answer.answered


def test_no_confident_answer_still_lists_the_nearest_items(indexed: Path, encoder):
    strict = Calibration(margin_weight=1.0, coverage_weight=1.0, threshold=99.0)
    answer = Searcher(indexed, encoder, calibration=strict).search("Nantong school fine", top_k=3)
    assert not answer.answered and len(answer.hits) == 3 and answer.confidence is not None
    lenient = Searcher(indexed, encoder, calibration=Calibration(threshold=0.0))
    assert lenient.search("Nantong school fine", top_k=3).answered


def test_off_topic_floor_on_cosine(indexed: Path, encoder):
    floor = Calibration(threshold=-1.0, min_cosine=0.99)
    assert not Searcher(indexed, encoder, calibration=floor).search("Nantong school fine", top_k=1).answered


def test_dense_only_mode_skips_bm25(indexed: Path, encoder):
    answer = Searcher(indexed, encoder, lexical_weight=0.0).search("Nantong middle school fined", top_k=3)
    assert answer.hits and any("Nantong" in h.text for h in answer.hits)
    with pytest.raises(ConfigurationError, match="lexical_weight must be >= 0, got -1"):
        Searcher(indexed, encoder, lexical_weight=-1)


def test_new_generation_is_picked_up_without_restart(indexed: Path, corpus_copy: Path, encoder):
    s = Searcher(indexed, encoder)
    assert "quokka" not in " ".join(h.text for h in s.search("quokka sanctuary rules", top_k=3).hits)
    (corpus_copy / "new.txt").write_text("New Bulletin\n\nWildlife\n\n1. Quokka rules\n\nThe quokka sanctuary rules take effect on 1 May.\n")
    ingest([corpus_copy], indexed, encoder)
    assert "quokka sanctuary rules" in s.search("quokka sanctuary rules", top_k=3).hits[0].text


def test_lexical_index_handles_raw_questions():
    lex = LexicalIndex([10, 20, 30], ["Fines: the CNIL fined X EUR 100k.", "Cookie banners - consent rules?", "Data transfers"])
    hits = lex.search("what's the CNIL fine? (cookie-less)", 3)
    assert hits[0][0] == 10 and all(score > 0 for _, score in hits)
    assert lex.search("?!-:", 3) == []
    assert lex.search("unseenword", 3) == []
    assert lex.scores("consent").shape == (3,)
    with pytest.raises(ValueError, match="same length"):
        LexicalIndex([1], [])


def test_calibration_file_and_default():
    cal = calibration_for("sentence-transformers/all-MiniLM-L6-v2")
    assert cal.threshold > 0 and cal.margin_weight > 0 and cal.coverage_weight > 0
    assert calibration_for("some/unknown-model") == Calibration()
    assert Calibration().answered(0.0) and not Calibration().answered(None)


def test_fit_separates_a_clear_case():
    feats = [(0.3, 0.8, True)] * 20 + [(0.25, 0.7, True)] * 20 + [(0.02, 0.2, False)] * 5 + [(0.05, 0.25, False)] * 5
    cal, report = fit(feats)
    assert report["abstain_unanswerable"] == 1.0 and report["abstain_answerable"] == 0.0
    assert not cal.answered(cal.confidence(0.02, 0.2)) and cal.answered(cal.confidence(0.3, 0.8))
    with pytest.raises(ValueError, match="both answerable and unanswerable"):
        fit([(0.1, 0.1, True)])


def test_broken_new_generation_is_not_served_and_not_retried(indexed: Path, corpus_copy: Path, encoder, monkeypatch):
    import retrieval.index.passages as index_mod
    from retrieval.index.generations import current_generation

    s = Searcher(indexed, encoder)
    before = s.index.generation
    (corpus_copy / "new.txt").write_text("New\n\nA paragraph about quokkas.\n")
    ingest([corpus_copy], indexed, encoder)
    gen = indexed / "generations" / current_generation(indexed)
    (gen / "index.faiss").write_bytes(b"garbage")
    loads = []
    real_load = index_mod.PassageIndex.load.__func__

    def counting_load(cls, *a, **k):
        loads.append(1)
        return real_load(cls, *a, **k)

    monkeypatch.setattr(index_mod.PassageIndex, "load", classmethod(counting_load))
    assert s.search("quokkas", top_k=1).hits[0].citation.source_file != "new.txt"
    assert s.search("quokkas", top_k=1) and s.index.generation == before
    assert len(loads) == 1


def test_garbled_current_logs_one_traceback_then_one_line(indexed: Path, encoder, caplog):
    import logging

    s = Searcher(indexed, encoder)
    before = s.index.generation
    (indexed / "CURRENT").write_bytes(b"\xff\xfe not a generation \x00")
    with caplog.at_level(logging.WARNING, logger="retrieval.search.searcher"):
        for _ in range(4):
            assert s.search("Nantong middle school fined", top_k=1).hits
    records = [r for r in caplog.records if r.name == "retrieval.search.searcher"]
    assert len(records) == 4 and s.index.generation == before
    assert records[0].exc_info is not None
    assert all(r.exc_info is None and r.levelno == logging.WARNING and "\n" not in r.getMessage() for r in records[1:])


def test_a_first_load_that_fails_is_not_redone_on_every_question(indexed: Path, corpus_copy: Path, encoder,
                                                                  monkeypatch):
    import retrieval.index.passages as index_mod
    from retrieval.errors import RetrievalError

    real_load = index_mod.PassageIndex.load.__func__
    loads = []

    def failing_load(cls, *a, **k):
        loads.append(1)
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(index_mod.PassageIndex, "load", classmethod(failing_load))
    s = Searcher(indexed, encoder)
    for _ in range(3):
        with pytest.raises(RetrievalError, match="Too many open files"):
            s.search("fines", top_k=1)
    assert len(loads) == 1 and s.loaded_index is None
    monkeypatch.setattr(index_mod.PassageIndex, "load", classmethod(real_load))
    (corpus_copy / "new.txt").write_text("New\n\nA paragraph about quokkas.\n")
    ingest([corpus_copy], indexed, encoder)  # a new generation is tried again
    assert s.search("quokkas", top_k=1).hits and s.loaded_index.generation == s.index.generation


def test_each_generation_saves_its_bm25_index_and_search_loads_it(indexed: Path, encoder, monkeypatch):
    import numpy as np

    from retrieval.index import lexical as lexical_mod
    from retrieval.index.generations import LEXICAL_DIR

    idx = PassageIndex.load(indexed)
    saved_dir = idx.path / LEXICAL_DIR
    assert (saved_dir / "ids.npy").exists() and any(f.startswith(LEXICAL_DIR + "/") for f in idx.manifest["files"])
    built = Searcher(indexed, encoder)._current().lexical
    ids = np.load(saved_dir / "ids.npy")
    loaded = LexicalIndex.load(saved_dir, ids)
    rebuilt = LexicalIndex(ids, [f"{r[7]}\n{r[8]}" for r in idx.catalog()])
    for q in ("Nantong school fine", "DORA ICT third-party providers"):
        assert np.allclose(loaded.scores(q), rebuilt.scores(q)) and np.allclose(built.scores(q), rebuilt.scores(q))
    # loading never builds: a Searcher on this generation does not index anything
    monkeypatch.setattr(lexical_mod.LexicalIndex, "__init__", _no_build(lexical_mod.LexicalIndex.__init__))
    assert Searcher(indexed, encoder).search("Nantong school fine", top_k=1).hits


def _no_build(init):
    def guarded(self, ids, texts=None):
        assert texts is None or not len(ids), "the saved BM25 index was rebuilt"
        init(self, ids, texts)
    return guarded


def test_a_saved_bm25_index_for_other_passages_is_rebuilt_not_served(tmp_path: Path):
    import numpy as np

    lex = LexicalIndex([1, 2], ["Nantong school fine", "DORA providers"])
    lex.save(tmp_path / "bm25")
    with pytest.raises(ValueError, match="other passages"):
        LexicalIndex.load(tmp_path / "bm25", np.array([2, 1], dtype=np.int64))


def test_the_searcher_sets_faiss_threads_where_it_is_created_and_checks_them(indexed: Path, encoder):
    import faiss

    before = faiss.omp_get_max_threads()
    try:
        Searcher(indexed, encoder, faiss_threads=2)
        assert faiss.omp_get_max_threads() == 2
        Searcher(indexed, encoder)
        assert faiss.omp_get_max_threads() == 1
        with pytest.raises(ConfigurationError, match="faiss_threads must be an integer >= 1, got 0"):
            Searcher(indexed, encoder, faiss_threads=0)
    finally:
        faiss.omp_set_num_threads(before)


def test_importing_the_index_configures_nothing():
    code = ("import faiss; faiss.omp_set_num_threads(2); import retrieval.index.passages, retrieval.search.searcher; "
            "assert faiss.omp_get_max_threads() == 2, 'faiss threads set at import'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
