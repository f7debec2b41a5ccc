"""The fitted verdict (retrieval/search/verdict_model.py) and its features (retrieval/search/features.py),
on real corpus sentences (mofo-european-digital-compliance-2025-05, the EinwV item)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.index.lexical import _Tokenizer
from retrieval.search.features import ItemFeatures, best_sentence_cosines, quote_sentences, term_features
from retrieval.search.searcher import Searcher
from retrieval.search.verdict_model import (
    FEATURES,
    QuestionRows,
    VerdictModel,
    fit,
    item_features,
    model_for,
    question_rows,
    simulate,
)
from tests.fakes import HashEncoder

EINWV = ("The Germany’s Cookie Consent Management Ordinance ( Einwilligungsverwaltungsverordnung, or EinwV) came "
         "into force on 1 April 2025 and aims to simplify how users manage their cookie preferences across digital "
         "services. EinwV allows users to make their choices once, reducing the need for repetitive consent requests.")
TOKENIZE = _Tokenizer()
TDDDG = ("Since the implementation of the Cookie Consent Management Ordinance is voluntary, significant changes are "
         "not anticipated. If Sec.25(2) of the TDDDG is already being adhered to, the ordinance will not introduce "
         "anything new.")


def test_a_quote_is_compared_sentence_by_sentence():
    sentences = quote_sentences(EINWV)
    assert len(sentences) == 2 and sentences[1].startswith("EinwV allows users")


def test_the_best_sentence_cosine_is_that_of_the_closest_sentence():
    enc = HashEncoder()
    q = enc.encode(["EinwV allows users to make their choices once, reducing the need for repetitive consent requests."])[0]
    einwv, tdddg = best_sentence_cosines(enc, q, [EINWV, TDDDG])
    # the second sentence of the EinwV quote is the question's words: cosine 1 (float32)
    assert einwv == pytest.approx(1.0, abs=1e-5)
    assert tdddg < 0.9
    assert best_sentence_cosines(enc, q, [""]) == [-1.0]


def test_features_keep_their_order():
    x = item_features(rule=True, slot_asked=True, slot_missing=False, names_share=0.5, cosine=0.6,
                      sentence_cosine=0.7, coverage=0.8, sentence_coverage=0.4, missing_idf=0.3, margin=0.1, gap=0.0)
    assert dict(zip(FEATURES, x)) == {"rule": 1.0, "slot_asked": 1.0, "slot_missing": 0.0, "names_share": 0.5,
                                      "cosine": 0.6, "sentence_cosine": 0.7, "coverage": 0.8, "sentence_coverage": 0.4,
                                      "missing_idf": 0.3, "margin": 0.1, "gap": 0.0}


def test_term_features_see_the_best_sentence_and_the_rarest_term_the_item_lacks():
    tokens = TOKENIZE
    idf = {"einwv": 5.0, "forc": 1.0, "tdddg": 4.0}.get
    words = lambda t: [w for w in tokens(t) if w in ("einwv", "forc", "tdddg")]  # noqa: E731
    # "when did the EinwV enter into force?": both terms in the EinwV item's first sentence
    cov, missing = term_features(words, lambda t: idf(t) or 0.0, "When did the EinwV enter into force?", EINWV, EINWV)
    assert cov == pytest.approx(1.0) and missing == 0.0
    # "…the TDDDG…" against the EinwV item: the rarest question term it lacks is TDDDG (idf 4 of the max 4)
    cov, missing = term_features(words, lambda t: idf(t) or 0.0, "When did the TDDDG enter into force?", EINWV, EINWV)
    assert cov == pytest.approx(1 / 5) and missing == pytest.approx(1.0)


def test_an_item_holds_the_gold_when_its_quote_contains_it_whitespace_aside():
    items = [ItemFeatures(TDDDG, (0.0,) * len(FEATURES), True), ItemFeatures(EINWV, (0.0,) * len(FEATURES), True)]
    rows = question_rows(items, "came into\n force on 1 April 2025", off_topic=False)
    assert rows.holds_gold == (False, True) and rows.answerable
    assert question_rows(items, "", off_topic=False).holds_gold == (False, False)


def _row(answerable: bool, ps: list[float], gaps: list[float] | None = None, names=None) -> QuestionRows:
    gaps = gaps or [0.0] * len(ps)
    feats = tuple(item_features(rule=False, slot_asked=False, slot_missing=False, names_share=1.0, cosine=p,
                                sentence_cosine=p, coverage=p, margin=0.0, gap=g) for p, g in zip(ps, gaps))
    return QuestionRows(feats, tuple(answerable and i == 0 for i in range(len(ps))),
                        tuple(names or [True] * len(ps)), answerable, False)


def test_a_lower_item_leads_only_within_the_promotion_gap_and_only_when_it_names_what_is_asked():
    rows = [_row(True, [0.1, 0.9], gaps=[0.0, 0.02]), _row(True, [0.1, 0.9], gaps=[0.0, 0.2]),
            _row(True, [0.9], names=[False])]
    out = simulate(rows, [[0.1, 0.9], [0.1, 0.9], [0.9]], 0.5, promote_gap=0.03)
    assert out == [(True, 1), (False, 1), (False, None)]


def test_the_fitted_threshold_keeps_false_refusals_within_the_bound():
    rng = np.random.default_rng(0)
    rows = [_row(True, [float(rng.uniform(0.4, 1.0)), 0.2]) for _ in range(40)]
    rows += [_row(False, [float(rng.uniform(0.0, 0.6)), 0.2]) for _ in range(40)]
    model, report = fit(rows, promote_gap=0.03, max_false_refusal=0.05)
    assert report["false_refusals"] <= 0.05
    assert report["refused_unanswerable"] > 0.5  # the separable part is refused, not everything answered
    probs = [[model.probability(f) for f in q.features] for q in rows]
    sim = simulate(rows, probs, model.threshold, 0.03)
    assert sum(not s for (s, _), q in zip(sim, rows) if q.answerable) <= 2


def test_fit_refuses_a_set_with_nothing_to_separate():
    with pytest.raises(ValueError):
        fit([_row(False, [0.3])], promote_gap=0.03)


def test_the_table_round_trips_per_model_key(tmp_path: Path):
    m = VerdictModel(tuple(0.0 for _ in FEATURES), tuple(1.0 for _ in FEATURES), tuple(0.5 for _ in FEATURES),
                     -0.25, 0.6)
    path = tmp_path / "verdict_model.toml"
    path.write_text(m.to_toml("test/hash-encoder", "a comment\non two lines"), encoding="utf-8")
    back = model_for("test/hash-encoder", path)
    assert back is not None and back.threshold == 0.6 and back.bias == -0.25
    x = (1.0,) * len(FEATURES)
    assert back.probability(x) == pytest.approx(m.probability(x), abs=1e-6)
    assert model_for("another/model", path) is None
    path.write_text(path.read_text().replace("'gap'", "'other'"), encoding="utf-8")
    with pytest.raises(ValueError, match="refit"):
        model_for("test/hash-encoder", path)


def test_a_search_carries_the_features_of_its_first_items(indexed: Path, encoder: HashEncoder):
    answer = Searcher(indexed, encoder, verdict_model=False, collect_features=True).search(
        "When did the EinwV enter into force?", top_k=5)
    assert 1 <= len(answer.features) <= 3
    assert Searcher(indexed, encoder, verdict_model=False).search("When did the EinwV enter into force?").features == ()
    first = dict(zip(FEATURES, answer.features[0].vector))
    assert first["gap"] == 0.0 and -1.0 <= first["sentence_cosine"] <= 1.0 and 0.0 <= first["coverage"] <= 1.0
    assert answer.features[0].text == answer.hits[0].text or answer.hits[0].rank == 1


def test_a_model_that_refuses_everything_gives_the_related_tier(indexed: Path, encoder: HashEncoder):
    never = VerdictModel(tuple(0.0 for _ in FEATURES), tuple(1.0 for _ in FEATURES), tuple(0.0 for _ in FEATURES),
                         -10.0, 0.5)
    answer = Searcher(indexed, encoder, verdict_model=never).search("When did the EinwV enter into force?", top_k=5)
    assert answer.tier in ("related", "nothing") and not any(h.answers for h in answer.hits)
