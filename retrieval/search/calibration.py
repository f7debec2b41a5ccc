"""The "no confident answer" rule, calibrated per model on a question set.

Two signals, both computed on the ranked items of one query:

- **margin**: fused score of the first item minus that of the second (the first item's score when
  it is alone). A clear winner suggests the corpus has *the* answer; near-ties suggest the query
  only matches a topic.
- **coverage**: the share of the query's terms, weighted by IDF, that occur in the first item
  (its context and every passage). Near-miss questions ("what is the *maximum fine* under the
  children's regulation?") match a topic but not the specific fact asked.

``confidence = margin_weight * margin + coverage_weight * coverage``; the answer counts as answered
when ``confidence >= threshold`` and the first item's best cosine is at least ``min_cosine``.

Method (``bulletin-bot eval QUESTIONS --calibrate``): on a question set with unanswerable questions
(empty gold), every (weight, threshold) pair on a grid is scored by the unanswerable questions it
abstains on, subject to abstaining on at most ``max_false_abstain`` (share) of answerable ones; of the
best pairs, the threshold in the middle of the feasible range is kept, for margin against noise.
The values in ``calibration.toml`` beside this file were fitted on ``shared/eval/dev_questions.jsonl``
(58 questions, 6 unanswerable) for each model named there. A model not named there answers
whenever a hit exists (threshold 0): calibrate it before relying on abstention.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found]


CALIBRATION_FILE = Path(__file__).with_name("calibration.toml")


@dataclass(frozen=True)
class Calibration:
    """Parameters of the abstention rule (see module doc). Weights and threshold are unitless."""

    margin_weight: float = 0.0
    coverage_weight: float = 0.0
    threshold: float = 0.0
    min_cosine: float = -1.0

    def confidence(self, margin: float, coverage: float) -> float:
        """The confidence value from a query's (margin, coverage) signals."""
        return self.margin_weight * margin + self.coverage_weight * coverage

    def answered(self, confidence: float | None, best_cosine: float | None = None) -> bool:
        """True when confidence reaches the threshold (and the best cosine reaches min_cosine)."""
        if confidence is None:
            return False
        if best_cosine is not None and best_cosine < self.min_cosine:
            return False
        return confidence >= self.threshold

    def to_dict(self) -> dict:
        return asdict(self)


def calibration_for(model: str, path: Path = CALIBRATION_FILE) -> Calibration:
    """The calibration kept for a model name in calibration.toml, or the permissive default."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Calibration()
    entry = table.get(model)
    if not entry:
        return Calibration()
    return Calibration(**{k: float(v) for k, v in entry.items() if k in Calibration.__dataclass_fields__})


def fit(features: list[tuple], max_false_abstain: float = 0.02,
        min_cosine: float = -1.0) -> tuple[Calibration, dict]:
    """Fit weights and threshold on (margin, coverage, answerable[, judged]) tuples.

    ``judged`` (default True) is the answerability verdict of the first hit
    (:mod:`retrieval.answerability.verdicts`): a question whose first hit was judged not to answer is
    refused whatever the threshold, so the rule is fitted on what the verdict leaves.

    ``min_cosine`` is not fitted: it is carried over (the off-topic floor).
    Margin and coverage are first scaled by their standard deviation over the set, then weights
    w and 1 - w (w on a 0.05 grid) are tried with every threshold between observed values.

    Returns:
        (Calibration, report) where report has ``abstain_unanswerable``, ``abstain_answerable``,
        ``feasible_thresholds`` (low, high) and the scales.

    Raises:
        ValueError: when the set has no answerable or no unanswerable question.
    """
    import numpy as np

    m = np.array([f[0] for f in features], dtype=float)
    c = np.array([f[1] for f in features], dtype=float)
    y = np.array([f[2] for f in features], dtype=bool)
    judged = np.array([f[3] if len(f) > 3 else True for f in features], dtype=bool)
    if y.all() or not y.any():
        raise ValueError("calibration needs both answerable and unanswerable questions")
    sm, sc = (m.std() or 1.0), (c.std() or 1.0)
    allowed = int(np.floor(max_false_abstain * y.sum()))
    best = None
    for w in np.round(np.arange(0.0, 1.0001, 0.05), 2):
        z = w * m / sm + (1 - w) * c / sc
        cuts = np.unique(z)
        thresholds = np.concatenate([[cuts[0] - 1e-6], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1e-6]])
        feasible = []
        for t in thresholds:
            abstain = (z < t) | ~judged
            if abstain[y].sum() <= allowed:
                feasible.append((int(abstain[~y].sum()), float(t)))
        if not feasible:
            continue
        top = max(u for u, _ in feasible)
        ts = [t for u, t in feasible if u == top]
        # prefer more unanswerable abstentions, then a wider feasible band (robustness)
        key = (top, max(ts) - min(ts))
        if best is None or key > best[0]:
            best = (key, w, min(ts), max(ts), z)
    if best is None:  # the verdict alone refuses more answerable questions than max_false_abstain allows
        raise ValueError(f"no threshold abstains on at most {max_false_abstain:.0%} of the answerable questions: "
                         f"the answerability verdict alone refuses {int((~judged & y).sum())} of {int(y.sum())}")
    (_, w, lo, hi, z) = best
    # the band's upper edge abstains most; step back a quarter of the band towards answering
    t = hi - (hi - lo) * 0.25
    cal = Calibration(margin_weight=round(w / sm, 6), coverage_weight=round((1 - w) / sc, 6), threshold=round(t, 6),
                      min_cosine=min_cosine)
    abstain = (z < t) | ~judged
    report = {"abstain_unanswerable": float(abstain[~y].mean()), "abstain_answerable": float(abstain[y].mean()),
              "feasible_thresholds": (lo, hi), "margin_scale": sm, "coverage_scale": sc, "w": w}
    return cal, report
