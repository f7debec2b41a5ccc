"""The fitted answer verdict: a small logistic model over per-(question, item) features, per encoder model.

The rule verdict (:mod:`retrieval.answerability.verdicts`: the asked slot filled, the named things present)
is one input among others; the model weighs it with how close the item is to the question, so a paraphrase
with no detectable slot can be answered and a topical item that fills a slot by chance can be refused.

Features of one shown item (:data:`FEATURES`, all computed by :func:`item_features`):

- ``rule``: 1 when the rule verdict says the item answers;
- ``slot_asked``: 1 when the question asks a slot (an amount, a date…); ``slot_missing``: 1 when it
  asks one the item does not fill;
- ``names_share``: the share of the question's named things the item names (1 when none are named);
- ``cosine``: cosine of the question and the item's best passage; ``sentence_cosine``: the best cosine
  of the question and one sentence of the quote (the loaded encoder, a few sentences per item);
- ``coverage``: the IDF-weighted share of the question's terms in the item (``ranking.item_coverage``);
  ``sentence_coverage``: the same share in the quote's best-covering sentence; ``missing_idf``: the IDF of the
  rarest question term the item lacks, over the IDF of the rarest question term (0 when it lacks none);
- ``margin``: the item's fused score minus the next item's; ``gap``: the first item's minus this one's.

``p = sigmoid(w · (x - mean) / scale + bias)``; the item answers when ``p >= threshold`` and it names every
named thing asked (invariant 4 of :mod:`retrieval.search.tier` stays a rule). The table is kept per model key
in ``verdict_model.toml`` beside this file, written by ``bulletin-bot eval … --calibrate`` (:func:`fit`):
items labelled by whether they hold the gold text of an answerable question; the threshold is the highest
that keeps the question-level false refusals (answerable questions not in the "answers" tier, the tier
simulated as :func:`retrieval.search.tier.settle` sets it) at most ``max_false_refusal`` on the fitting set.
A model key not in the file falls back to the rule verdict and the margin/coverage calibration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.text import normalise_space

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found]

MODEL_FILE = Path(__file__).with_name("verdict_model.toml")

FEATURES = ("rule", "slot_asked", "slot_missing", "names_share", "cosine", "sentence_cosine", "coverage",
            "sentence_coverage", "missing_idf", "margin", "gap")

#: Items judged by the model per question (the first ones of the ranking); lower ones keep the rule verdict.
MODEL_DEPTH = 3


def item_features(*, rule: bool, slot_asked: bool, slot_missing: bool, names_share: float, cosine: float,
                  sentence_cosine: float, coverage: float, margin: float, gap: float, sentence_coverage: float = 0.0,
                  missing_idf: float = 0.0) -> tuple[float, ...]:
    """The feature vector of one item, in the order of :data:`FEATURES` (see the module doc for each)."""
    return (float(rule), float(slot_asked), float(slot_missing), float(names_share), float(cosine),
            float(sentence_cosine), float(coverage), float(sentence_coverage), float(missing_idf), float(margin),
            float(gap))


@dataclass(frozen=True)
class VerdictModel:
    """A fitted logistic verdict (see the module doc): per-feature mean and scale, weights, bias, threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, x: Sequence[float]) -> float:
        """P("answers") in [0, 1] for one feature vector (:func:`item_features`)."""
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answers(self, x: Sequence[float]) -> bool:
        """True when the item's probability reaches the threshold."""
        return self.probability(x) >= self.threshold

    def to_toml(self, key: str, comment: str = "") -> str:
        """The table for ``verdict_model.toml`` under ``[key]``."""
        def arr(v: Sequence[float]) -> str:
            return "[" + ", ".join(f"{x:.6f}" for x in v) + "]"
        head = "".join(f"# {line}\n" for line in comment.splitlines())
        return (f'{head}["{key}"]\nfeatures = [{", ".join(repr(f) for f in FEATURES)}]\n'
                f"mean = {arr(self.mean)}\nscale = {arr(self.scale)}\nweights = {arr(self.weights)}\n"
                f"bias = {self.bias:.6f}\nthreshold = {self.threshold:.6f}\n")


def model_for(key: str, path: Path = MODEL_FILE) -> VerdictModel | None:
    """The model kept for an encoder's model key, or None (then the rule verdict decides).

    Raises:
        ValueError: the table names other features than :data:`FEATURES` (an old file).
    """
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    entry = table.get(key)
    if not entry:
        return None
    if tuple(entry.get("features", ())) != FEATURES:
        raise ValueError(f"{path} [{key}]: features {entry.get('features')} are not {list(FEATURES)}: refit it")
    return VerdictModel(tuple(entry["mean"]), tuple(entry["scale"]), tuple(entry["weights"]), float(entry["bias"]),
                        float(entry["threshold"]))


@dataclass(frozen=True)
class QuestionRows:
    """One question's fitting data: the feature vectors of its first items (ranking order), whether each
    holds the gold text, whether each names every named thing asked, and the question's own facts."""

    features: tuple[tuple[float, ...], ...]
    holds_gold: tuple[bool, ...]
    names_all: tuple[bool, ...]
    answerable: bool
    off_topic_floor: bool  # the best cosine is under the calibration's floor: "nothing" whatever the model


def question_rows(items: Sequence, gold: str, off_topic: bool) -> QuestionRows:
    """One question's :class:`QuestionRows` from its answer's ``features`` (items with ``text``, ``vector``,
    ``names_all``: :class:`retrieval.search.features.ItemFeatures`) and its gold text ("" when unanswerable);
    an item holds the gold when its quote contains it, whitespace-normalised (as ``eval`` counts a hit)."""
    target = normalise_space(gold)
    return QuestionRows(tuple(tuple(i.vector) for i in items),
                        tuple(bool(target) and target in normalise_space(i.text) for i in items),
                        tuple(bool(i.names_all) for i in items), bool(target), off_topic)


def simulate(rows: Sequence[QuestionRows], probs: Sequence[Sequence[float]], threshold: float,
             promote_gap: float) -> list[tuple[bool, int | None]]:
    """(in the "answers" tier, index of the leading item) per question, as :func:`retrieval.search.tier.settle`
    decides from the model's verdicts: the first answering item leads; a lower one gives "answers" only
    within ``promote_gap`` of the first's fused score (feature ``gap``)."""
    gap_at = FEATURES.index("gap")
    out = []
    for q, ps in zip(rows, probs):
        lead = next((i for i, (p, ok) in enumerate(zip(ps, q.names_all)) if ok and p >= threshold), None)
        answered = (not q.off_topic_floor and lead is not None
                    and (lead == 0 or q.features[lead][gap_at] <= promote_gap))
        out.append((answered, lead))
    return out


def _logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-penalised logistic regression (Newton's method), x standardised."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def fit(rows: Sequence[QuestionRows], *, max_false_refusal: float = 0.05, promote_gap: float,
        l2: float = 1.0) -> tuple[VerdictModel, dict]:
    """Fit the model on the questions' items, then its threshold (see the module doc).

    Returns:
        (model, report): report has ``false_refusals`` and ``refused_unanswerable`` (shares, on ``rows``),
        ``items`` and ``questions``.

    Raises:
        ValueError: no item holds a gold text, or every one does (nothing to separate).
    """
    x = np.array([f for q in rows for f in q.features], dtype=float)
    y = np.array([g and q.answerable for q in rows for g in q.holds_gold], dtype=float)
    if not len(y) or y.all() or not y.any():
        raise ValueError("fitting the verdict needs items that hold a gold text and items that do not")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    w, b = _logistic((x - mean) / scale, y, l2)
    model = VerdictModel(tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                         tuple(float(v) for v in w), b, 0.5)
    probs = [[model.probability(f) for f in q.features] for q in rows]
    answerable = [q.answerable for q in rows]
    n_ans = sum(answerable)
    best = min(p for ps in probs for p in ps) if probs else 0.0
    for t in sorted({round(p, 6) for ps in probs for p in ps}):
        sim = simulate(rows, probs, t, promote_gap)
        refused = sum(a and not s for (s, _), a in zip(sim, answerable))
        if n_ans and refused / n_ans > max_false_refusal:
            break
        best = t
    model = VerdictModel(model.mean, model.scale, model.weights, model.bias, best)
    sim = simulate(rows, probs, best, promote_gap)
    una = [s for (s, _), a in zip(sim, answerable) if not a]
    report = {"false_refusals": sum(a and not s for (s, _), a in zip(sim, answerable)) / max(n_ans, 1),
              "refused_unanswerable": sum(not s for s in una) / max(len(una), 1),
              "items": len(y), "questions": len(rows)}
    return model, report
